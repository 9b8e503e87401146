"""Delivery to a real SMTP server on loopback (aiosmtpd): headers, language, attachment; a server that is
down and comes back gets the message exactly once; a refused mailbox fails at once and shows."""

from __future__ import annotations

import time

import pytest

from egsu.mail import delivery, outbox
from egsu.mail.models import Mail
from tests.jobs.conftest import wait_for
from tests.mail.conftest import point_mail_at
from tests.smtp import SmtpSink

PDF = b"%PDF-1.4\n% an act of the commission\n%%EOF\n"


@pytest.mark.django_db
def test_a_message_arrives_with_its_headers_language_and_attachment(
    mail_to_smtp, django_capture_on_commit_callbacks
):
    # when a message in Russian with a PDF is sent (the job runs inline in the tests)
    with django_capture_on_commit_callbacks(execute=True):
        mail = outbox.send(
            "duty@energo.gov.kz", "Акт комиссии", "Добрый день! Акт во вложении.", language="ru",
            attachments=[outbox.Attachment("act-12.pdf", PDF, "application/pdf")],
        )  # fmt: skip
    # then the server received it once, as stored in the outbox
    mail.refresh_from_db()
    assert (mail.status, mail.attempts, mail.sent_at is not None) == ("sent", 1, True)
    ((recipients, received),) = mail_to_smtp.messages
    assert recipients == ["duty@energo.gov.kz"]
    assert (received["From"], received["To"], received["Subject"]) == (
        "egsu@energo.gov.kz", "duty@energo.gov.kz", "Акт комиссии",
    )  # fmt: skip
    assert (received["Message-ID"], received["Content-Language"]) == (mail.message_id, "ru")
    assert received.get_body(("plain",)).get_content().strip() == "Добрый день! Акт во вложении."
    (attached,) = received.iter_attachments()
    assert (attached.get_filename(), attached.get_content_type(), attached.get_content()) == (
        "act-12.pdf", "application/pdf", PDF,
    )  # fmt: skip


@pytest.mark.django_db
def test_a_server_that_is_down_gets_the_message_once_when_it_is_back(
    settings, django_capture_on_commit_callbacks
):
    # given a mail server that is down
    sink = SmtpSink()
    point_mail_at(settings, sink.port, email_retry_s=60)
    with django_capture_on_commit_callbacks(execute=True):
        mail = outbox.send("ops@example.kz", "Alarm", "The feed stopped.")
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in mail.last_error
    assert 55 <= (mail.next_try_at - mail.created_at).total_seconds() <= 65  # backoff: EGSU_EMAIL_RETRY_S
    assert delivery.deliver(mail.pk) is None  # not due yet: nothing is tried
    # when it comes back and the message is due
    sink.start()
    try:
        delivery.deliver(mail.pk, now=mail.next_try_at)
        delivery.release_stale()
        for mail_id in delivery.due_ids(now=mail.next_try_at):
            delivery.deliver(mail_id, now=mail.next_try_at)
    finally:
        sink.stop()
    # then it was delivered exactly once
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == ("sent", 2)
    assert len(sink.messages) == 1


@pytest.mark.django_db
def test_a_refused_mailbox_fails_at_once_and_a_dead_server_after_the_last_attempt(
    settings, smtp, django_capture_on_commit_callbacks
):
    point_mail_at(settings, smtp.port, email_max_attempts=2)
    with django_capture_on_commit_callbacks(execute=True):
        refused = outbox.send("nobody@example.kz", "Alarm", "x")
    refused.refresh_from_db()
    assert (refused.status, refused.attempts) == ("failed", 1) and "550" in refused.last_error
    smtp.stop()
    with django_capture_on_commit_callbacks(execute=True):
        lost = outbox.send("ops@example.kz", "Alarm", "x")
    lost.refresh_from_db()
    delivery.deliver(lost.pk, now=lost.next_try_at)
    lost.refresh_from_db()
    assert (lost.status, lost.attempts) == ("failed", 2)


def test_a_worker_retries_until_the_server_is_back_and_delivers_once(workers, tmp_path):
    # given a message queued while the mail server is down, and a worker with one-second backoff
    sink = SmtpSink()
    mail = outbox.send("ops@example.kz", "Alarm", "The feed stopped.", language="en")
    process = workers.start("worker", EGSU_EMAIL_URL=sink.url, EGSU_EMAIL_RETRY_S="1")
    wait_for(lambda: Mail.objects.get(pk=mail.pk).attempts >= 2, timeout=30, what="two failed attempts",
             logs=workers.logs)  # fmt: skip
    # when the server comes back
    sink.start()
    try:
        wait_for(lambda: Mail.objects.get(pk=mail.pk).status == "sent", timeout=30, what="the delivery",
                 logs=workers.logs)  # fmt: skip
        time.sleep(2)  # later retries and sweeps find nothing more to send
    finally:
        sink.stop()
        process.terminate()
        process.wait(timeout=30)
    # then exactly one message arrived, as queued (the sender is fixed when the message is queued)
    assert len(sink.messages) == 1
    assert (sink.messages[0][1]["From"], sink.messages[0][1]["Message-ID"]) == (mail.sender, mail.message_id)
    assert Mail.objects.get(pk=mail.pk).attempts >= 3
