"""`egsu journal`: search, show and purge the message journal from a shell (INT-36, INT-51).

Times are read and shown in Astana time; a time without offset is Astana time.
Django is set up by the caller (egsu.cli) before this module is imported.
"""

from __future__ import annotations

from datetime import timedelta

import typer
from rich.table import Table

from egsu.cli import options
from egsu.journal import services
from egsu.journal.masking import mask_passwords
from egsu.journal.models import JournalEntry
from egsu.journal.tasks import purge_and_audit
from egsu_core.clock import format_astana, utcnow

app = typer.Typer(help="The message journal: search, show, purge.", no_args_is_help=True)


_console = options.console
_moment = options.moment


@app.command()
def search(
    sender: str | None = typer.Option(None, "--sender", help="senderId."),
    message_id: str | None = typer.Option(None, "--message-id", help="messageId."),
    since: str | None = typer.Option(None, "--since", help="From this date/time, Astana (inclusive)."),
    until: str | None = typer.Option(None, "--until", help="Before this date/time, Astana (exclusive)."),
    status: str | None = typer.Option(None, "--status", help="Status code, e.g. SCE002."),
    direction: str | None = typer.Option(None, "--direction", help="IN or OUT."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many entries, newest first."),
) -> None:
    """List journal entries, newest first."""
    if direction is not None and direction.upper() not in {"IN", "OUT"}:
        raise typer.BadParameter("use IN or OUT", param_hint="--direction")
    entries = services.search(
        sender_id=sender,
        message_id=message_id,
        direction=direction.upper() if direction else None,
        status_code=status,
        since=_moment(since, "--since"),
        until=_moment(until, "--until"),
        limit=limit,
    )
    table = Table(
        "id", "time (Astana)", "dir", "kind", "messageId", "sender", "addressee", "status", "records", "bytes"
    )
    count = 0
    for entry in entries:
        count += 1
        records = "" if entry.records_total is None else f"{entry.records_accepted}/{entry.records_total}"
        table.add_row(
            str(entry.pk),
            format_astana(entry.occurred_at),
            entry.direction,
            entry.kind,
            entry.message_id,
            entry.sender_id,
            entry.addressee,
            entry.status_code,
            records,
            str(entry.size),
        )
    console = _console()
    console.print(table)
    console.print(f"{count} entr{'y' if count == 1 else 'ies'}")


def _find(id_or_message_id: str) -> JournalEntry:
    if id_or_message_id.isdigit():
        entry = JournalEntry.objects.filter(pk=int(id_or_message_id)).first()
        if entry is not None:
            return entry
    matches = list(
        JournalEntry.objects.filter(message_id=id_or_message_id).order_by("occurred_at", "pk")[:20]
    )
    if not matches:
        typer.echo(f"no journal entry with id or messageId {id_or_message_id!r}", err=True)
        raise typer.Exit(1)
    if len(matches) > 1:
        typer.echo(f"messageId {id_or_message_id!r} names {len(matches)} entries; show one by id:", err=True)
        for entry in matches:
            typer.echo(f"  {entry.pk}  {entry.direction} {entry.kind} {entry.sender_id} "
                       f"{format_astana(entry.occurred_at)}", err=True)  # fmt: skip
        raise typer.Exit(2)
    return matches[0]


@app.command()
def show(
    id_or_message_id: str = typer.Argument(..., help="Journal id, or a messageId."),
    raw: bool = typer.Option(False, "--raw", help="Print the message itself (passwords masked)."),
    unmasked: bool = typer.Option(False, "--unmasked", help="With --raw: do not mask passwords."),
) -> None:
    """Print one entry's metadata, and with --raw the message as received or sent."""
    entry = _find(id_or_message_id)
    fields = [
        ("id", entry.pk),
        ("direction", entry.direction),
        ("kind", entry.kind),
        ("time (Astana)", format_astana(entry.occurred_at)),
        ("messageId", entry.message_id),
        ("correlationId", entry.correlation_id),
        ("related entry", entry.related_id or ""),
        ("senderId", entry.sender_id),
        ("addressee", entry.addressee),
        ("serviceId", entry.service_id),
        ("remote address", entry.remote_addr),
        ("status", f"{entry.status_code} {entry.status_message}".strip()),
        (
            "records total/accepted/rejected",
            f"{entry.records_total}/{entry.records_accepted}/{entry.records_rejected}",
        ),
        ("signature verdict", entry.signature_verdict),
        ("size (bytes)", entry.size),
        ("sha256", entry.sha256),
        ("checksum verifies", "yes" if services.verify_checksum(entry) else "NO"),
    ]
    for name, value in fields:
        typer.echo(f"{name + ':':<34}{value}")
    if raw:
        content = services.raw_bytes(entry)
        if not content and entry.size:
            typer.echo("\n(content not kept: the message was refused before it could be parsed)")
            return
        shown = content if unmasked else mask_passwords(content)
        typer.echo("")
        typer.echo(shown.decode("utf-8", errors="replace"))


@app.command()
def purge(
    older_than_days: int | None = typer.Option(
        None, "--older-than-days", help="Retention in days (at least three years); default from settings."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count what would be deleted."),
) -> None:
    """Delete journal entries past retention; entries younger than three years always stay (INT-36)."""
    older_than = timedelta(days=older_than_days) if older_than_days is not None else None
    now = utcnow()
    try:
        cutoff = services.purge_cutoff(older_than, now)
    except ValueError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"entries before {format_astana(cutoff)} (Astana) are past retention")
    if dry_run:
        count = services.purge(older_than=older_than, now=now, dry_run=True)
        typer.echo(f"dry run: {count} entr{'y' if count == 1 else 'ies'} would be deleted")
        return
    count = purge_and_audit(
        older_than=older_than,
        source="egsu journal purge",
        on_progress=lambda done: typer.echo(f"  deleted {done}…"),
    )
    typer.echo(f"deleted {count} entr{'y' if count == 1 else 'ies'}")
