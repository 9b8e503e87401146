"""The alarm lifecycle (MON-05..08): raise, fold repeats, acknowledge, close on clear, reopen."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from egsu.alarms import services
from egsu.alarms.models import Alarm, AlarmEntry
from egsu.clock import utcnow
from egsu.registry.models import Subject
from egsu.vocabulary import AlarmState, Severity


@pytest.fixture
def subject(db):
    return Subject.objects.create(bin="990140000011", name="Alpha Oil LLP", region="Atyrau region")


@pytest.fixture
def heard(db):
    events = []

    def listen(sender, alarm, action, **kwargs):
        events.append((alarm.key, action))

    services.alarm_changed.connect(listen)
    yield events
    services.alarm_changed.disconnect(listen)


def test_repeats_fold_into_one_alarm_and_tell_once(subject, heard, django_capture_on_commit_callbacks):
    t0 = utcnow()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            services.raise_alarm(
                source="meter_event", key="M1:TERMINAL_COVER_OPENED", severity=Severity.WARNING,
                title="Terminal cover opened", subject=subject, at=t0 + timedelta(minutes=15 * n),
            )  # fmt: skip
    alarm = Alarm.objects.get()
    assert (alarm.count, alarm.state, alarm.region) == (5, "open", "Atyrau region")
    assert alarm.last_seen == t0 + timedelta(minutes=60)
    assert heard == [("M1:TERMINAL_COVER_OPENED", "raised")]


def test_acknowledge_then_clear_closes_and_a_return_reopens(
    subject, heard, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model

    operator = get_user_model().objects.create_user("op")
    with django_capture_on_commit_callbacks(execute=True):
        alarm = services.raise_alarm(
            source="missing", key="S1", severity="warning", title="No data", subject=subject
        )
        services.acknowledge(alarm, operator, "calling them")
        closed = services.clear_alarm(source="missing", key="S1")
        assert services.clear_alarm(source="missing", key="S1") is None  # already closed: nothing happens
        again = services.raise_alarm(
            source="missing", key="S1", severity="critical", title="No data", subject=subject
        )
    assert closed.state == AlarmState.CLOSED
    assert (again.pk, again.state, again.severity, again.count) == (alarm.pk, "open", "critical", 1)
    assert again.acknowledged_by is None
    actions = list(AlarmEntry.objects.filter(alarm=alarm).values_list("action", "user__username"))
    assert actions == [("raised", None), ("acknowledged", "op"), ("closed", None), ("reopened", None)]
    assert [action for _, action in heard] == ["raised", "acknowledged", "closed", "reopened"]


def test_a_worse_occurrence_escalates_and_reopens_for_a_new_look(subject):
    from django.contrib.auth import get_user_model

    alarm = services.raise_alarm(source="vee", key="P1:spike", severity="info", title="Spike")
    services.acknowledge(alarm, get_user_model().objects.create_user("op"))
    alarm = services.raise_alarm(source="vee", key="P1:spike", severity="critical", title="Spike")
    assert (alarm.severity, alarm.state, alarm.count) == ("critical", "open", 2)
    alarm = services.raise_alarm(source="vee", key="P1:spike", severity="info", title="Spike")
    assert alarm.severity == "critical"  # a milder repeat never lowers it


def test_closing_by_hand_needs_a_reason(subject):
    alarm = services.raise_alarm(source="x", key="k", severity="info", title="t")
    with pytest.raises(ValueError):
        services.close(alarm, None, "  ")
    assert services.close(alarm, None, "known maintenance").state == "closed"


def test_a_full_re_evaluation_closes_what_no_longer_holds(subject):
    for key in ("a", "b", "c"):
        services.raise_alarm(source="rule", key=key, severity="warning", title=key)
    assert services.clear_all_except(source="rule", keys={"b"}) == 2
    assert set(Alarm.objects.filter(state="open").values_list("key", flat=True)) == {"b"}


@pytest.mark.django_db(transaction=True)
def test_concurrent_raisers_make_one_alarm():
    """Two workers noticing the same condition at once (SQLite serialises; PostgreSQL races for real)."""
    from django.db import connection

    errors = []

    def worker():
        try:
            for _ in range(10):
                services.raise_alarm(source="race", key="same", severity="warning", title="Same condition")
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    if connection.vendor == "sqlite":
        pytest.skip("SQLite in-memory test databases are per connection; the PostgreSQL pass races for real")
    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    alarm = Alarm.objects.get(source="race")
    assert alarm.count == 30
