"""Which tags the sources really give, for ``check-config``: every unread or unknown tag is named.

Modbus registers and OPC UA nodes name their tags in the configuration. A drop folder
or an SQL query may list them (``tags = [...]``); when it does not, only its data can
tell, so this module reads what is there — the exports waiting in the folder and the
latest ones in ``done/``, the query's rows of the last week (or since ``marker_start``)
— without keeping anything. Then:

- a device tag that no source gives is a problem (a typo: the device would stay silent);
- when a source that lists no tags had no data to look at, the device tags that only it
  could give are reported as not confirmed (a warning), never silently accepted;
- a tag a source gives that no device maps is reported too (a typo on the other side,
  or a meter nobody configured).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from egsu_agent.config import AgentConfig, FolderSourceConfig, SqlSourceConfig
from egsu_agent.sources import SourceError
from egsu_core.clock import to_astana

RECENT_EXPORTS = 20
SQL_DAYS = 7
SQL_ROWS = 200_000


@dataclass
class TagReport:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seen: dict[str, set[str]] = field(default_factory=dict)
    """Source name → the tags found in its data."""


def folder_tags(source: FolderSourceConfig) -> tuple[set[str], str | None]:
    """Tags of the exports waiting and of the latest ones already read; a note when none could be read."""
    from egsu_agent.sources.dropfolder import read_rows

    files = [p for p in source.path.glob(source.pattern) if p.is_file()]
    if source.done_dir.is_dir():
        done = sorted((p for p in source.done_dir.glob(source.pattern) if p.is_file()),
                      key=lambda p: p.stat().st_mtime, reverse=True)  # fmt: skip
        files += done[:RECENT_EXPORTS]
    tags: set[str] = set()
    unreadable = []
    for path in files:
        try:
            tags |= {sample.tag for sample in read_rows(path.name, path.read_bytes())}
        except (OSError, ValueError) as exc:
            unreadable.append(f"{path.name} ({exc})")
    if not files:
        return tags, f"no export in {source.path} or {source.done_dir} yet"
    if unreadable and not tags:
        return tags, "no export could be read: " + "; ".join(unreadable[:3])
    return tags, None


def sql_tags(source: SqlSourceConfig, now: datetime) -> tuple[set[str], str | None]:
    from egsu_agent.sources.sql import SqlSource

    reader = SqlSource(source)
    since = to_astana(now - timedelta(days=SQL_DAYS)).strftime("%Y-%m-%d %H:%M:%S")
    until = to_astana(now).strftime("%Y-%m-%d %H:%M:%S")
    try:
        rows = reader.raw_rows(since=since, until=until, marker=source.marker_start, limit=SQL_ROWS)
    except SourceError as exc:
        return set(), f"the query failed: {exc}"
    tags = {str(row[0]) for row in rows if row}
    if not tags:
        return tags, f"the query returned no row for the last {SQL_DAYS} days"
    return tags, None


def check_tags(config: AgentConfig, now: datetime) -> TagReport:
    report = TagReport()
    given: dict[str, str] = {}
    unsure: list[str] = []
    for index, source in enumerate(config.sources):
        label = f"sources[{index}] ({source.name})"
        for tag in source.declared_tags:
            given.setdefault(tag, source.name)
        if source.polled or source.declared_tags:
            continue
        if isinstance(source, FolderSourceConfig):
            tags, note = folder_tags(source)
        else:
            tags, note = sql_tags(source, now)
        report.seen[source.name] = tags
        for tag in tags:
            given.setdefault(tag, source.name)
        if note:
            unsure.append(source.name)
            report.warnings.append(
                f"{label}: its tags could not be checked: {note}; list them in tags = [...]"
            )
    mapped = {tag for device in config.devices for tag in device.tags}
    for index, device in enumerate(config.devices):
        for tag in device.tags:
            if tag in given:
                continue
            if unsure:
                report.warnings.append(
                    f"devices[{index}]: tag {tag!r} is not confirmed: no source declares it, and "
                    f"{', '.join(unsure)} had no data to look for it in"
                )
            else:
                report.problems.append(
                    f"devices[{index}]: tag {tag!r} is read by no source (no register, node or tags entry "
                    "names it, and no export or row carries it)"
                )
    for index, source in enumerate(config.sources):
        found = set(source.declared_tags) | report.seen.get(source.name, set())
        for tag in sorted(found - mapped):
            report.warnings.append(
                f"sources[{index}] ({source.name}): tag {tag!r} is read but no device maps it"
            )
    return report
