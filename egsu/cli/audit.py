"""`egsu audit`: search and purge the audit trail from a shell (DIG-21: kept at least 12 months).

Times are read and shown in Astana time; a time without offset is Astana time.
Django is set up by the caller (egsu.cli) before this module is imported.
"""

from __future__ import annotations

from datetime import timedelta

import typer
from rich.table import Table

from egsu.access import audit as trail
from egsu.access.audit import MIN_RETENTION, Event
from egsu.access.tasks import purge_and_audit
from egsu.cli import options
from egsu_core.clock import format_astana, utcnow

app = typer.Typer(help="The audit trail: search, purge.", no_args_is_help=True)


_console = options.console
_moment = options.moment


def _plural(count: int) -> str:
    return f"{count} event{'' if count == 1 else 's'}"


@app.command()
def search(
    event: str | None = typer.Option(None, "--event", help="Event name, e.g. user.changed or auth.locked."),
    actor: str | None = typer.Option(None, "--actor", help="User name of the actor."),
    obj: str | None = typer.Option(None, "--object", help="Object id, or type:id such as auth.user:5."),
    since: str | None = typer.Option(None, "--since", help="From this date/time, Astana (inclusive)."),
    until: str | None = typer.Option(None, "--until", help="Before this date/time, Astana (exclusive)."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many events, newest first."),
) -> None:
    """List audit events, newest first."""
    if event and event not in {e.value for e in Event}:
        raise typer.BadParameter(f"unknown event {event!r}", param_hint="--event")
    events = trail.search(
        event=event or "", actor=actor or "", obj=obj or "",
        since=_moment(since, "--since"), until=_moment(until, "--until"),
    )[:limit]  # fmt: skip
    table = Table("id", "time (Astana)", "event", "actor", "object", "summary", "address")
    count = 0
    for row in events:
        count += 1
        target = f"{row.object_type}:{row.object_id}" if row.object_id else row.object_type
        table.add_row(
            str(row.pk), format_astana(row.occurred_at), row.event, row.actor_name, target, row.summary,
            row.remote_addr,
        )  # fmt: skip
    console = _console()
    console.print(table)
    console.print(_plural(count))


@app.command()
def purge(
    older_than_days: int = typer.Option(
        MIN_RETENTION.days, "--older-than-days", help=f"Retention in days (at least {MIN_RETENTION.days})."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count what would be deleted."),
) -> None:
    """Delete audit events past retention; events younger than 12 months always stay (DIG-21)."""
    older_than = timedelta(days=older_than_days)
    if older_than < MIN_RETENTION:
        typer.echo(f"refused: audit events are kept at least {MIN_RETENTION.days} days", err=True)
        raise typer.Exit(2)
    now = utcnow()
    cutoff = now - older_than
    typer.echo(f"events before {format_astana(cutoff)} (Astana) are past retention")
    if dry_run:
        count = trail.search(until=cutoff).count()
        typer.echo(f"dry run: {_plural(count)} would be deleted")
        return
    count = purge_and_audit(older_than=older_than, source="egsu audit purge")
    typer.echo(f"deleted {_plural(count)}")
