"""Mail jobs: deliver one message (queued by `send`), the due sweep, and the pruning of old rows."""

from __future__ import annotations

from egsu.jobs.registry import job
from egsu.mail import delivery, services
from egsu.mail.models import Mail


@job(queue="mail", max_attempts=1)  # the outbox row keeps its own attempts and backoff
def deliver_mail(mail_id: int) -> str:
    mail = delivery.deliver(mail_id)
    if mail is None:
        return "not due"
    if mail.status == Mail.Status.PENDING:  # failed this time: try again when due
        deliver_mail.using(run_after=mail.next_try_at).enqueue(mail.pk)
    return mail.status


@job(queue="mail", max_attempts=1)
def deliver_due() -> int:
    """Safety net: anything due that no queued delivery job covers (e.g. its worker died)."""
    delivery.release_stale()
    done = 0
    for mail_id in delivery.due_ids():
        if delivery.deliver(mail_id) is not None:
            done += 1
    return done


@job()
def prune() -> int:
    return services.prune(source="periodic job mail.prune")
