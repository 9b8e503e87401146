"""Alarm e-mails through a real SMTP server on loopback (issue 14 item 4): at once in the reader's
language, once per alarm state, retried when the server was down, a daily digest, and the System's
maintenance window announced to every connected subject (INT-43..45)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from egsu.access.roles import Role
from egsu.alarms import notify, services
from egsu.alarms.models import Subscription, SystemWindow
from egsu.mail import delivery
from egsu.mail.models import Mail
from egsu.points.models import MeteringPoint
from egsu_core.clock import astana_midnight, utcnow


def subscribe(user, language="ru", **fields) -> Subscription:
    user.profile.language = language
    user.profile.save()
    subscription = Subscription.objects.create(user=user, **fields)
    return subscription


@pytest.mark.django_db
def test_a_critical_alarm_is_mailed_at_once_in_the_readers_language_and_only_once(
    world, mail_to_smtp, django_capture_on_commit_callbacks
):
    subscribe(world.users[Role.OPERATOR], "ru", severity="critical")
    subscribe(world.users[Role.SUBJECT], "kk", severity="warning")
    subscribe(world.users[Role.SUBSCRIBER], "en", severity="info")  # sees none of these points
    point = MeteringPoint.objects.get(device=world.own_device)
    with django_capture_on_commit_callbacks(execute=True):
        services.raise_alarm(source="meter_event", key="k", severity="critical", title="Terminal cover opened",
                             point=point)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.raise_alarm(source="meter_event", key="k", severity="critical", title="Terminal cover opened",
                             point=point)  # a repeat folds: nothing new to tell  # fmt: skip
    got = {tuple(to): message for to, message in mail_to_smtp.messages}
    assert sorted(got) == [("operator@example.kz",), ("subject-a@example.kz",)]
    assert (
        str(got[("operator@example.kz",)]["Subject"])
        .strip()
        .startswith("Тревога ЕГСУ: Вскрытие клеммной крышки")
    )
    assert "Клеммалық қақпақ ашылды" in got[("subject-a@example.kz",)]["Subject"]
    # the same state is never sent twice, even if the job runs again
    alarm = services.raise_alarm(source="meter_event", key="k", severity="critical", title="x", point=point)
    entry = alarm.entries.get()
    assert notify.notify(alarm.pk, entry.pk) == 2
    assert Mail.objects.count() == 2


@pytest.mark.django_db
def test_a_delivery_that_failed_is_retried_and_the_operator_sees_it(world, smtp, settings, client_for):
    from tests.mail.conftest import point_mail_at

    subscribe(world.users[Role.OPERATOR], "en", severity="info")
    smtp.stop()  # the mail server is down
    point_mail_at(settings, smtp.port)
    alarm = services.raise_alarm(source="verification", key="v", severity="warning", title="Low battery",
                                 point=MeteringPoint.objects.get(device=world.own_device))  # fmt: skip
    notify.notify(alarm.pk, alarm.entries.get().pk)
    mail = Mail.objects.get()
    delivery.deliver(mail.pk)
    mail.refresh_from_db()
    assert mail.status == Mail.Status.PENDING and mail.attempts == 1 and mail.last_error
    outbox = client_for(Role.OPERATOR).get("/cabinet/operations/mail/")
    assert mail.recipient in outbox.content.decode()
    smtp.restart()
    Mail.objects.filter(pk=mail.pk).update(next_try_at=utcnow())
    delivery.deliver(mail.pk)
    mail.refresh_from_db()
    assert mail.status == Mail.Status.SENT
    assert [to for to, _m in smtp.messages] == [["operator@example.kz"]]


@pytest.mark.django_db
def test_the_daily_digest_lists_the_days_alarms_once(world, mail_to_smtp, django_capture_on_commit_callbacks):
    subscribe(world.users[Role.SUBJECT], "en", severity="info", delivery="digest")
    day = date(2025, 6, 1)
    at = astana_midnight(day) + timedelta(hours=9)
    point = MeteringPoint.objects.get(device=world.own_device)
    services.raise_alarm(source="a", key="1", severity="warning", title="Low battery", point=point, at=at)
    services.raise_alarm(source="a", key="2", severity="info", title="Overload",
                         point=MeteringPoint.objects.get(device=world.other_device), at=at)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert notify.digest(day) == 1
        assert notify.digest(day) == 1  # the outbox keeps it once
    [(to, message)] = [(to, m) for to, m in mail_to_smtp.messages]
    body = message.get_content()
    assert to == ["subject-a@example.kz"] and "Low battery" in body and "Overload" not in body


@pytest.mark.django_db
def test_the_systems_maintenance_window_is_announced_to_connected_subjects(
    world, mail_to_smtp, client_for, django_capture_on_commit_callbacks
):
    from tests.registry.factories import make_system

    world.own.email = "dispatch@own.kz"
    world.own.save()
    make_system("OWN-SYS", subject=world.own)
    now = utcnow()
    window = SystemWindow.objects.create(starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=1, hours=2),
                                         text="Database upgrade", created_at=now)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert notify.announce_window(window, now) == 1
    [(to, message)] = mail_to_smtp.messages
    assert to == ["dispatch@own.kz"] and "Database upgrade" in message.get_content()
    overview = client_for(Role.SUBJECT).get("/cabinet/")
    assert list(overview.context["windows"]) == [window]
