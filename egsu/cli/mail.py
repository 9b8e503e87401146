"""`egsu mail`: look into the outbox and check the mail settings with a test message.

Django is set up by the caller (egsu.cli) before this module is imported.
"""

from __future__ import annotations

import typer
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rich.table import Table

from egsu.cli import options
from egsu.mail import delivery, outbox
from egsu.mail.models import Mail
from egsu_core.clock import format_astana

TEST_SUBJECT = _("EGSU test message")
app = typer.Typer(help="Outgoing e-mail: the outbox, a test message.", no_args_is_help=True)


@app.command("list")
def list_mail(
    failed: bool = typer.Option(False, "--failed", help="Only messages that could not be delivered."),
    limit: int = typer.Option(50, "--limit", min=1),
) -> None:
    """Messages of the outbox, newest first, with their delivery state and last error."""
    mails = Mail.objects.filter(status=Mail.Status.FAILED) if failed else Mail.objects.all()
    table = Table("id", "created (Astana)", "to", "subject", "status", "attempts", "last error")
    for mail in mails[:limit]:
        table.add_row(str(mail.pk), format_astana(mail.created_at), mail.recipient, mail.subject, mail.status,
                      str(mail.attempts), mail.last_error[:80])  # fmt: skip
    options.console().print(table)


@app.command()
def test(
    address: str = typer.Argument(..., help="Where to send the test message."),
    language: str = typer.Option("kk", "--language", help="kk, ru or en."),
) -> None:
    """Send a test message now, through the outbox, and say whether the server took it."""
    try:
        mail = outbox.send(address, TEST_SUBJECT, template="mail/test.txt", language=language)
    except outbox.MailError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    mail = delivery.deliver(mail.pk) or mail
    server = settings.CONFIG.email.describe()
    typer.echo(f"message {mail.pk} to {address}: {mail.status} (mail settings: {server})")
    if mail.status != Mail.Status.SENT:
        typer.echo(f"last error: {mail.last_error}", err=True)
        raise typer.Exit(1)
