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

from egsu.clock import ASTANA, format_astana
from egsu_agent.config import AgentConfig, ConfigError, load_config
from egsu_agent.logs import setup_logging
from egsu_agent.schedule import DAY, TWO_HOURS, ManualClock, SystemClock, local_instant
from egsu_agent.sources.timestamps import parse_time

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


def _agent(config: AgentConfig, clock, *, progress: bool = True):
    from egsu_agent.service import Agent

    return Agent(config, clock=clock, progress=progress)


def _instant(text: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 date-time (Astana time when no offset)"
        ) from None


@app.command("check-config")
def check_config(config: Path = CONFIG_OPTION) -> None:
    """Validate the configuration file and show what it maps; exit 2 listing every mistake."""
    loaded = _config(config)
    table = Table(title=f"{len(loaded.devices)} device(s) → {loaded.system.wsdl}")
    for column in ("object", "table", "device", "quantities", "totaliser"):
        table.add_column(column)
    for device in loaded.devices:
        table.add_row(
            device.object_id,
            device.kind,
            device.device,
            ", ".join(f"{q.quantity}←{q.tag} [{q.unit}]" for q in device.quantities),
            f"{device.totaliser.tag} [{device.totaliser.unit}]" if device.totaliser else "",
        )
    out.print(table)
    out.print("sources: " + ", ".join(f"{s.name} ({s.type})" for s in loaded.sources))
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
    """What is pending, the last delivery, the next slot, open notices."""
    loaded = _config(config)
    agent = _agent(loaded, SystemClock(), progress=False)
    try:
        state = agent.status()
    finally:
        agent.close()
    last = state["last_delivery"]
    summary = {
        "pending": len(state["pending"]),
        "oldest_pending": format_astana(state["pending"][0][1]) if state["pending"] else None,
        "delivered_messages": state["delivered"],
        "rejected_messages": state["rejected_messages"],
        "rejected_records": state["rejected_records"],
        "last_delivery": format_astana(last[1]) if last else None,
        "next_slot": format_astana(state["next_slot"]),
        "paused_until": format_astana(state["paused_until"]) if state["paused_until"] else None,
        "open_notices": [n[5] for n in state["open_notices"]],
    }
    if as_json:
        out.print_json(json.dumps(summary))
        return
    for key, value in summary.items():
        out.print(f"{key.replace('_', ' ')}: {value}")
    if state["pending"]:
        table = Table(title="pending messages (oldest first)")
        for column in ("period", "interval", "chunk", "next attempt", "messageId"):
            table.add_column(column)
        for interval, start, chunk, next_at, message_id in state["pending"][:50]:
            table.add_row(format_astana(start), interval, str(chunk), format_astana(next_at), message_id)
        out.print(table)


@app.command()
def send(
    period: str = typer.Option(
        ..., help="Period start, Astana time: 2026-03-10T02:00 (two-hourly) or 2026-03-10 (daily)."
    ),
    daily: bool = typer.Option(False, help="The daily period of that date."),
    force: bool = typer.Option(
        False, help="Send now even if a retry is scheduled later (the 3-a-day limit still holds)."
    ),
    config: Path = CONFIG_OPTION,
) -> None:
    """Send (or resend) one period now, with its stored messageIds so the System recognises it."""
    loaded = _config(config)
    setup_logging(loaded.log_format)
    if daily or len(period) == 10:
        start, interval = local_instant(date.fromisoformat(period[:10]), 0), DAY
    else:
        start, interval = _instant(period), TWO_HOURS
    agent = _agent(loaded, SystemClock())
    try:
        delivered = agent.send_period(interval, start, force=force)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    finally:
        agent.close()
    out.print(f"{start.astimezone(ASTANA).isoformat()} {interval}: {delivered} message(s) delivered")


@app.command("announce-maintenance")
def announce_maintenance(
    start: str = typer.Option(..., "--from", help="Start of the break (Astana time without offset)."),
    end: str = typer.Option(..., "--to", help="End of the break."),
    reason: str = typer.Option("planned preventive maintenance", help="What is done."),
    config: Path = CONFIG_OPTION,
) -> None:
    """Announce a technological break to the data operator and the authorized body, ≥3 days ahead (INT-45)."""
    loaded = _config(config)
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
