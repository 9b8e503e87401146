"""`egsu readings claims …`: the claims of ClickHouse writes (ADR 0013) for operators.

`pending` lists open intents, `recover` inserts what dead or failed writers left, `fill` makes the
claims agree with a store written without them (an upgrade, a restore), `prune` deletes old claims
as the retention job does. Django is set up by the caller (egsu.cli) before this module is imported.
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

from egsu.cli import options
from egsu.cli.ops import _rich_progress
from egsu_core.clock import format_astana

app = typer.Typer(help="The readings store: the claims of ClickHouse writes.", no_args_is_help=True)
claims_app = typer.Typer(
    help="Claims of ClickHouse writes (exactly once, ADR 0013): pending, recover, fill, prune.",
    no_args_is_help=True,
)
app.add_typer(claims_app, name="claims")

STATE_STYLE = {
    "in flight": "green",
    "queued": "green",
    "failed": "bold red",
    "writer dead": "bold red",
    "past lease": "yellow",
    "not flushed": "yellow",
}


def _moment(seconds: int | None) -> str:
    return "—" if seconds is None else format_astana(datetime.fromtimestamp(seconds, UTC))


def _not_claimed() -> None:
    options.console().print(
        "the readings store does not claim its writes (EGSU_READINGS_BACKEND is not clickhouse)"
    )


@claims_app.command()
def pending() -> None:
    """List open intents (rows claimed, not yet known to be in ClickHouse); exit 1 when one is stuck."""
    from egsu.readings.upkeep import open_intents

    intents = open_intents()
    if intents is None:
        _not_claimed()
        return
    table = Table("intent", "state", "writer (host:pid)", "taken (Astana)", "rows", "oldest slot (Astana)")
    for intent in intents:
        style = STATE_STYLE.get(intent.state, "")
        table.add_row(
            str(intent.id), f"[{style}]{intent.state}[/]", f"{intent.host}:{intent.pid}",
            _moment(intent.touched_at), str(intent.rows), _moment(intent.oldest),
        )  # fmt: skip
    console = options.console()
    console.print(table)
    stuck = sum(intent.waits_for_recovery for intent in intents)
    console.print(f"{len(intents)} open, {stuck} for recovery (egsu readings claims recover)")
    if stuck:
        raise typer.Exit(1)


@claims_app.command()
def recover() -> None:
    """Insert the claimed rows that failed or dead writers left and ClickHouse lacks; audited."""
    from egsu.readings.upkeep import recover as run

    result = run(source="egsu readings claims recover")
    if result is None:
        _not_claimed()
        return
    options.console().print(
        f"{result['intents']} intents recovered: {result['rows_inserted']} of {result['rows_claimed']} claimed rows"
        f" were missing and are inserted; {result['still_open']} still open (writers at work)"
    )


@claims_app.command()
def fill(
    days: int = typer.Option(
        None, "--days", min=1, help="Only the slots of the last DAYS days (default: every slot in the store)."
    ),
    page_size: int = typer.Option(50_000, "--page-size", min=1, help="Values read and written per page."),
    restart: bool = typer.Option(
        False, "--restart", help="Start from the beginning, not from the last page."
    ),
) -> None:
    """Make the claims agree with ClickHouse (a store written before claims, or restored). Stop the writers
    first. Idempotent and resumable: run it again after an interruption and it goes on."""
    from egsu.readings.upkeep import fill as run

    with _rich_progress() as bar:
        task = bar.add_task("claims", total=None, note="")

        def progress(done: int, total: int, note: str) -> None:
            bar.update(task, completed=done, total=total, note=note[-60:])

        try:
            result = run(
                days=days,
                page_size=page_size,
                restart=restart,
                progress=progress,
                source="egsu readings claims fill",
            )
        except (RuntimeError, ValueError) as exc:
            options.console().print(f"[red]{exc}[/]")
            raise typer.Exit(1) from exc
    if result is None:
        _not_claimed()
        return
    resumed = " (went on from the last page)" if result["resumed"] else ""
    options.console().print(f"{result['read']:,} values read, {result['written']:,} claims written{resumed}")


@claims_app.command()
def prune(
    older_than_days: int = typer.Option(
        None, "--older-than-days", help="Retention in days (default EGSU_READINGS_CLAIMS_RETENTION_DAYS)."
    ),
    batch: int = typer.Option(10_000, "--batch", min=1, help="Claims deleted per transaction."),
) -> None:
    """Delete the claims of old slots now, as the daily job ops.retention does; audited."""
    from django.conf import settings

    from egsu.ops.retention import purge_readings_claims

    days = older_than_days if older_than_days is not None else settings.CONFIG.readings_claims_retention_days
    with _rich_progress() as bar:
        task = bar.add_task("pruning claims", total=None, note="")
        try:
            deleted = purge_readings_claims(
                days=days, batch=batch, source="egsu readings claims prune",
                progress=lambda done: bar.update(task, completed=done, note=f"{done:,} deleted"),
            )  # fmt: skip
        except ValueError as exc:
            options.console().print(f"[red]refused: {exc}[/]")
            raise typer.Exit(2) from exc
    if deleted is None:
        options.console().print("nothing to prune: claims are kept for ever, or writes are not claimed")
        return
    options.console().print(f"deleted {deleted:,} claims")
