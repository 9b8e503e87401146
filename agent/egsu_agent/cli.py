"""The ``egsu-agent`` command: run, status, send, check-config, announce-maintenance."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from datetime import date, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from egsu_agent.config import AgentConfig, ConfigError, load_config
from egsu_agent.logs import setup_logging
from egsu_agent.schedule import DAY, TWO_HOURS, ManualClock, SystemClock, local_instant
from egsu_agent.sources.timestamps import parse_time
from egsu_agent.tagcheck import check_tags
from egsu_core.clock import format_astana, to_astana

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
out = Console()
err = Console(stderr=True)
CONFIG_OPTION = typer.Option(
    Path("agent.toml"),
    "--config",
    "-c",
    envvar="EGSU_AGENT_CONFIG",
    help="The agent's TOML configuration file.",
)


def _config(path: Path) -> AgentConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        err.print(f"[red]{len(exc.problems)} problem(s) in the configuration:[/]")
        for problem in exc.problems:
            err.print(f"  {exc.path}: {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _agent(config: AgentConfig, clock, *, progress: bool = True, recover: bool = True):
    from egsu_agent.service import Agent

    return Agent(config, clock=clock, progress=progress, recover=recover)


def _instant(text: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 date-time (Astana time when no offset)"
        ) from None


def _human(moment: datetime | None) -> str:
    return to_astana(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _plain(value):
    """JSON-ready: instants as Astana ISO text, tuples as lists."""
    if isinstance(value, datetime):
        return format_astana(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


@app.command("check-config")
def check_config(
    config: Path = CONFIG_OPTION,
    data: bool = typer.Option(
        True, help="Also read the exports and the SQL rows there are, to check the tags they carry."
    ),
) -> None:
    """Validate the configuration and show what it maps; exit 2 listing every mistake.

    Every device tag that no source gives, and every tag a source gives that no device
    maps, is named: Modbus and OPC UA sources declare theirs; for a folder or SQL source
    that lists none, the exports and rows that are there now are read (nothing is kept).
    """
    loaded = _config(config)
    setup_logging(loaded.log_format, level=logging.ERROR)
    report = check_tags(loaded, SystemClock().now()) if data else None
    table = Table(title=f"{len(loaded.devices)} device(s) → {loaded.system.wsdl}")
    for column in ("object", "table", "device", "quantities", "totaliser", "status tag"):
        table.add_column(column)
    for device in loaded.devices:
        totaliser = device.totaliser_map
        table.add_row(
            device.object_id,
            device.kind,
            device.device,
            ", ".join(f"{q.quantity}←{q.tag} [{q.unit}]" for q in device.quantity_maps),
            f"{totaliser.tag} [{totaliser.unit}]" if totaliser else "",
            device.status_tag or "",
        )
    out.print(table)
    out.print("sources: " + ", ".join(f"{s.name} ({s.type})" for s in loaded.sources))
    if report is not None:
        for warning in report.warnings:
            err.print(f"warning: {loaded.path}: {warning}", markup=False, highlight=False, soft_wrap=True)
        if report.problems:
            err.print(f"[red]{len(report.problems)} problem(s) with the tags:[/]")
            for problem in report.problems:
                err.print(f"  {loaded.path}: {problem}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2)
    out.print("[green]configuration is valid[/]")


@app.command()
def run(
    config: Path = CONFIG_OPTION,
    until: str | None = typer.Option(
        None, help="Stop after this instant (ISO 8601; Astana time without offset)."
    ),
    replay_from: str | None = typer.Option(
        None,
        help="Run on a simulated clock from this instant to --until (default: now) without sleeping: "
        "catch-up runs, rehearsals on the test stand.",
    ),
) -> None:
    """The service: poll the sources, send at every slot, retry and backfill (logs in JSON on stderr)."""
    loaded = _config(config)
    setup_logging(loaded.log_format)
    stop = threading.Event()
    end = _instant(until) if until else None
    if replay_from:
        clock = ManualClock(_instant(replay_from))
        end = end or SystemClock().now()
    else:
        clock = SystemClock(stop)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    agent = _agent(loaded, clock, progress=sys.stderr.isatty())
    logging.getLogger("egsu_agent").info(
        "agent started", extra={"event": "started", "config": str(loaded.path)}
    )
    try:
        agent.run(until=end, stop=stop)
    finally:
        agent.close()


@app.command()
def status(config: Path = CONFIG_OPTION, as_json: bool = typer.Option(False, "--json")) -> None:
    """What is owed to the System and why, what was sent, what was refused, open notices, unknown tags."""
    loaded = _config(config)
    setup_logging(loaded.log_format, level=logging.ERROR)
    agent = _agent(loaded, SystemClock(), progress=False, recover=False)
    try:
        state = agent.status()
    finally:
        agent.close()
    if as_json:
        out.print_json(json.dumps(_plain(state), ensure_ascii=False))
        return
    last = state["last_delivery"]
    out.print(f"now: {_human(state['now'])}; next slot {_human(state['next_slot'])}")
    out.print(f"sent: {state['delivered']} message(s) delivered, {state['corrections_delivered']} of them "
              f"corrections; last {_human(last[1]) if last else 'never'}")  # fmt: skip
    if state["paused_until"]:
        out.print(f"sending paused after an outage until {_human(state['paused_until'])}")
    out.print(f"owed: {len(state['owed'])} message(s)")
    if state["owed"]:
        table = Table(title="owed to the System (oldest first)")
        for column in ("period", "version", "part", "attempts", "why", "next attempt"):
            table.add_column(column)
        for item in state["owed"][:100]:
            table.add_row(item["period"], str(item["version"]), str(item["chunk"]), str(item["attempts"]),
                          item["why"], _human(item["next_attempt"]))  # fmt: skip
        out.print(table)
    for item in state["waiting_to_settle"]:
        out.print(f"the period closed at {_human(item['closed'])} is built at {_human(item['built_at'])}")
    out.print(
        f"failed: {state['rejected_messages']} message(s) refused, {state['rejected_records']} record(s) rejected"
    )
    for item in state["refused"]:
        out.print(f"  refused {item['period']} (version {item['version']}): {item['code']} {item['why']}")
    for item in state["record_rejections"][:50]:
        out.print(f"  rejected record {item['position']} of {item['message_id']}: object {item['object_id']} "
                  f"device {item['device']}: {item['code']} {item['why']}")  # fmt: skip
    empty = state["empty_periods"]
    if empty:
        shown = ", ".join(item["period"] for item in empty[-12:])
        out.print(f"no data (nothing to send): {len(empty)} period(s) of the last 7 days had no sample from any "
                  f"device{'; the latest' if len(empty) > 12 else ''}: {shown}", soft_wrap=True)  # fmt: skip
    out.print(f"open notices: {len(state['open_notices'])}")
    for notice in state["open_notices"]:
        sent = f"sent {_human(notice[6])}" if notice[6] else f"NOT SENT: {notice[7] or 'waiting'}"
        out.print(f"  {notice[5]} ({sent})")
    for tag, source, first, _last_seen, count in state["unknown_tags"]:
        out.print(
            f"unknown tag {tag!r} from {source}: {count} sample(s) since {_human(first)}, no device maps it"
        )


@app.command()
def send(
    period: str = typer.Option(
        ..., help="Period start, Astana time: 2026-03-10T02:00 (two-hourly) or 2026-03-10 (daily)."
    ),
    daily: bool = typer.Option(False, help="The daily period of that date."),
    force: bool = typer.Option(
        False, help="Send now even if a retry is scheduled later (the 3-a-day limit still holds)."
    ),
    rebuild: bool = typer.Option(
        False, help="Send every record of the period again as a new message (after fixing a refusal)."
    ),
    config: Path = CONFIG_OPTION,
) -> None:
    """Send (or resend) one period now, whatever its state; says what happened and what to do next."""
    from egsu_agent.recovery import RecoveryError

    loaded = _config(config)
    setup_logging(loaded.log_format, level=logging.WARNING)
    if daily or len(period.strip()) == 10:
        try:
            day = date.fromisoformat(period.strip()[:10])
        except ValueError:
            raise typer.BadParameter(
                f"{period!r} is not a date (YYYY-MM-DD)", param_hint="--period"
            ) from None
        start, interval = local_instant(day, 0), DAY
    else:
        start, interval = _instant(period), TWO_HOURS
    agent = _agent(loaded, SystemClock())
    try:
        report = agent.send_period(interval, start, force=force, rebuild=rebuild)
    except RecoveryError as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(1) from None
    except Exception as exc:  # noqa: BLE001 - a manual command reports, never dumps a traceback
        logging.getLogger("egsu_agent").exception("send failed", extra={"event": "send_error"})
        err.print(f"[red]send failed: {type(exc).__name__}: {exc}[/]", highlight=False)
        raise typer.Exit(3) from None
    finally:
        agent.close()
    out.print(f"{report.period}:", highlight=False)
    for line in report.lines:
        out.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"{report.delivered} message(s) delivered now, {report.owed} still owed", highlight=False)
    if report.owed:
        raise typer.Exit(1)


@app.command("announce-maintenance")
def announce_maintenance(
    start: str = typer.Option(..., "--from", help="Start of the break (Astana time without offset)."),
    end: str = typer.Option(..., "--to", help="End of the break."),
    reason: str = typer.Option("planned preventive maintenance", help="What is done."),
    config: Path = CONFIG_OPTION,
) -> None:
    """Announce a technological break to the data operator and the authorized body, ≥3 days ahead (INT-45)."""
    loaded = _config(config)
    setup_logging(loaded.log_format, level=logging.WARNING)
    agent = _agent(loaded, SystemClock(), progress=False)
    try:
        notice = agent.announce_maintenance(_instant(start), _instant(end), reason)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    finally:
        agent.close()
    out.print(f"announced: {notice.subject}")


def main() -> None:
    app()
