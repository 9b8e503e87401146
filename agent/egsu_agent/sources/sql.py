"""Samples from the company's own database: one query returning (tag, time, value[, fault]) rows.

Two ways to read only what is new, chosen by the placeholder the query names:

- **change marker** (``:marker``, recommended): the query also returns a column named
  ``marker`` — a value that grows with every row written or changed, such as an
  identity column or a ``changed_at`` stamp set on insert and update — and reads the
  rows past the marker already read::

      SELECT tag, measured_at, value, id AS marker FROM lab WHERE id > :marker ORDER BY id

  A row written days after the time it measures still has a new marker, so it is read
  (and its period corrected). The first read starts after ``marker_start``.
- **time window** (``:since`` / ``:until``): rows whose measured time is after the
  newest time already read *minus* ``lookback_hours`` (default 48), up to now::

      SELECT tag, measured_at, value FROM meter_log WHERE measured_at > :since AND measured_at <= :until

  Rows written late by up to the look-back are read; a row re-read changes nothing.
  Rows later than that are missed: use a change marker for such tables.

Times are Astana text "YYYY-MM-DD HH:MM:SS" both ways; a time without an offset is
Astana time (INT-37). The marker or newest time is kept with the samples in one
transaction, so a restart never skips a row. Supported URLs: ``sqlite:///path/to/file.db``
and ``postgresql://user@host/db`` (psycopg 3; ``:name`` placeholders are rewritten).
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta

from egsu_agent.config import SqlSourceConfig
from egsu_agent.samples import Sample
from egsu_agent.sources import Batch, SourceError
from egsu_agent.sources.timestamps import parse_fault, parse_time, parse_value
from egsu_core.clock import to_astana

_NAMED = re.compile(r"(?<!:):(since|until|marker)\b")
_TIME = "%Y-%m-%d %H:%M:%S"


def _astana_text(moment: datetime) -> str:
    return to_astana(moment).strftime(_TIME)


class SqlSource:
    def __init__(self, config: SqlSourceConfig) -> None:
        self.name = config.name
        self.config = config
        self.url = config.url
        self.query = config.query

    def _execute(self, params: dict, limit: int | None = None) -> tuple[list[str], list[tuple]]:
        try:
            if self.url.startswith("sqlite:///"):
                connection = sqlite3.connect(self.url[len("sqlite:///") :], timeout=10)
                try:
                    cursor = connection.execute(self.query, params)
                    rows = cursor.fetchmany(limit) if limit else cursor.fetchall()
                    return [d[0].lower() for d in cursor.description or ()], rows
                finally:
                    connection.close()
            import psycopg

            with psycopg.connect(self.url, connect_timeout=10) as connection:
                cursor = connection.execute(_NAMED.sub(r"%(\1)s", self.query), params)
                rows = cursor.fetchmany(limit) if limit else cursor.fetchall()
                return [d.name.lower() for d in cursor.description or ()], rows
        except Exception as exc:  # noqa: BLE001 - driver errors differ between sqlite3 and psycopg
            raise SourceError(f"SQL source {self.name}: {exc}") from exc

    def raw_rows(self, *, since: str, until: str, marker, limit: int | None = None) -> list[tuple]:
        """The query's rows for these parameters (check-config looks at the tags in them)."""
        return self._execute({"since": since, "until": until, "marker": marker}, limit)[1]

    def read(self, now: datetime, *, since: str | None, seen=None) -> Batch:
        """``since`` is the state kept after the last read: the newest time read, or the marker as JSON."""
        until = _astana_text(now)
        if self.config.uses_marker:
            marker = json.loads(since) if since is not None else self.config.marker_start
            params = {"marker": marker, "since": None, "until": until}
        else:
            newest = since or "1970-01-01 00:00:00"
            wall_clock = datetime.strptime(newest, _TIME).replace(tzinfo=UTC)  # Astana text, shifted as text
            start = wall_clock - timedelta(hours=self.config.lookback_hours)
            params = {"since": start.strftime(_TIME), "until": until, "marker": None}
        columns, rows = self._execute(params)
        marker_at = columns.index("marker") if "marker" in columns else None
        if self.config.uses_marker and marker_at is None:
            raise SourceError(
                f"SQL source {self.name}: the query uses :marker but returns no column named marker"
            )
        data_columns = [i for i in range(len(columns)) if i != marker_at]
        samples = []
        newest_time = since if not self.config.uses_marker else None
        newest_marker = params["marker"]
        for number, row in enumerate(rows, start=1):
            values = [row[i] for i in data_columns] if columns else list(row)
            if len(values) < 3:
                raise SourceError(
                    f"SQL source {self.name}: row {number} has {len(values)} columns, expected tag, time, value"
                )
            try:
                at = parse_time(values[1])
                samples.append(
                    Sample(
                        at=at,
                        tag=str(values[0]),
                        value=parse_value(values[2]),
                        fault=parse_fault(values[3]) if len(values) > 3 else False,
                    )
                )
            except ValueError as exc:
                raise SourceError(f"SQL source {self.name}: row {number}: {exc}") from exc
            if marker_at is not None and self.config.uses_marker:
                value = row[marker_at]
                value = value.isoformat(sep=" ") if isinstance(value, datetime) else value
                newest_marker = (
                    value if newest_marker is None or _after(value, newest_marker) else newest_marker
                )
            else:
                stamp = _astana_text(at)
                newest_time = stamp if newest_time is None or stamp > newest_time else newest_time
        if self.config.uses_marker:
            return Batch(samples=samples, watermark=json.dumps(newest_marker, default=str))
        return Batch(samples=samples, watermark=newest_time)

    def close(self) -> None:
        pass


def _after(value, than) -> bool:
    try:
        return value > than
    except TypeError:
        return str(value) > str(than)
