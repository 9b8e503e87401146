"""`send`: one call renders the message in the recipient's language and stores it in the outbox, once per key."""

from __future__ import annotations

import pytest
from django.utils.translation import gettext_lazy as _

from egsu.access.models import Profile
from egsu.access.roles import Role
from egsu.cli.mail import TEST_SUBJECT
from egsu.jobs.models import Job
from egsu.mail import outbox
from egsu.mail.models import Mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def russian_user(django_user_model):
    user = django_user_model.objects.create_user("duty", "duty@energo.gov.kz", "x" * 12)
    Profile.objects.create(user=user, role=Role.OPERATOR, language="ru")
    return user


def test_a_message_to_a_user_is_in_their_language_and_delivered_after_the_commit(
    real_queue, russian_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        mail = outbox.send(russian_user, TEST_SUBJECT, template="mail/test.txt")
    assert (mail.recipient, mail.language, mail.status, mail.sender) == (
        "duty@energo.gov.kz", "ru", "pending", "egsu@localhost",
    )  # fmt: skip
    assert mail.subject == "Тестовое письмо ЕГСУ ТЭК"
    assert (
        mail.body.strip()
        == "Это письмо проверяет настройки электронной почты ЕГСУ ТЭК. Ничего делать не нужно."
    )
    assert Job.objects.count() == 0 and len(callbacks) == 1  # nothing is queued before the commit
    callbacks[0]()
    job = Job.objects.get()
    assert (job.task_path, job.queue, job.args) == ("egsu.mail.tasks.deliver_mail", "mail", [mail.pk])


def test_an_address_gets_the_language_asked_for_and_placeholders_are_filled(real_queue):
    mail = outbox.send("ops@example.kz", _("Page %(n)s of %(total)s"), "body", context={"n": 1, "total": 2},
                       language="kk")  # fmt: skip
    assert (mail.language, mail.subject) == ("kk", "2 беттің 1-беті")


def test_the_same_key_is_mailed_once_per_recipient(real_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = outbox.send("a@example.kz", "Alarm", "opened", dedupe_key="alarm:7:open:1")
        again = outbox.send("a@example.kz", "Alarm", "opened again", dedupe_key="alarm:7:open:1")
        other = outbox.send("b@example.kz", "Alarm", "opened", dedupe_key="alarm:7:open:1")
    assert again.pk == first.pk and again.body == "opened" and other.pk != first.pk
    assert Mail.objects.count() == 2 and Job.objects.count() == 2


def test_a_subject_is_one_line(real_queue):
    mail = outbox.send("a@example.kz", "Alarm\r\nBcc: victim@example.kz", "x")
    assert mail.subject == "Alarm Bcc: victim@example.kz"


@pytest.mark.parametrize(
    ("to", "attachments", "message"),
    [
        ("not-an-address", [], "not an e-mail address"),
        (
            "a@example.kz",
            [outbox.Attachment("big.bin", b"x" * (10 * 1024 * 1024 + 1))],
            "attachments over 10 MB",
        ),
    ],
    ids=["bad-address", "too-big"],
)
def test_a_message_that_cannot_be_sent_is_refused_and_nothing_stored(real_queue, to, attachments, message):
    with pytest.raises(outbox.MailError, match=message):
        outbox.send(to, "x", "y", attachments=attachments)
    assert Mail.objects.count() == 0
