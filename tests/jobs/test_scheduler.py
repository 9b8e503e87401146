"""Periodic jobs: declared in one place, queued once per period by a database uniqueness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from egsu.jobs import scheduler
from egsu.jobs.models import Job, PeriodicRun
from egsu.jobs.periods import Daily, Every
from egsu.jobs.registry import Periodic, check_schedule, load_schedule
from tests.jobs.schedule import FAST
from tests.jobs.tasks import rows

NOW = datetime(2026, 5, 1, 10, 0, 1, tzinfo=UTC)
pytestmark = pytest.mark.django_db


def test_the_schedule_of_the_system_is_one_checked_list():
    schedule = {entry.name: entry for entry in load_schedule()}
    assert {"jobs.heartbeat", "journal.retention", "audit.retention"} <= set(schedule)
    assert schedule["journal.retention"].schedule == Daily("02:30")
    assert schedule["jobs.heartbeat"].schedule == Every(minutes=1)


@pytest.mark.parametrize(
    "broken",
    [
        [Periodic("x", Every(minutes=1), "egsu.jobs.tasks.heartbeat")] * 2,
        [Periodic("x", Every(minutes=1), "egsu_core.clock.utcnow")],
        [Periodic("x", Every(minutes=1), "egsu.jobs.tasks.no_such_job")],
    ],
    ids=["duplicate-name", "not-a-task", "missing"],
)
def test_a_broken_schedule_fails_at_start(broken):
    with pytest.raises((ValueError, TypeError, ImportError)):
        check_schedule(broken)


def test_each_period_is_queued_once_however_often_schedulers_look(real_queue):
    schedule = check_schedule(FAST)
    first = scheduler.schedule_due(schedule, by="a", now=NOW)
    again = scheduler.schedule_due(schedule, by="b", now=NOW + timedelta(milliseconds=900))
    assert [(r.name, r.period_start) for r in first] == [
        ("test.every-2s", datetime(2026, 5, 1, 10, 0, 0, tzinfo=UTC)),
        ("test.every-3s", datetime(2026, 5, 1, 10, 0, 0, tzinfo=UTC)),
    ]
    assert again == []
    later = scheduler.schedule_due(schedule, by="b", now=NOW + timedelta(seconds=1))
    assert [r.name for r in later] == ["test.every-2s"]
    assert PeriodicRun.objects.count() == Job.objects.count() == 3


def test_the_unique_period_stops_a_scheduler_that_raced_past_the_check(real_queue):
    entry = check_schedule(FAST)[0]
    start = entry.schedule.period_start(NOW)
    assert scheduler._claim_period(entry, start, "a", NOW) is not None
    assert scheduler._claim_period(entry, start, "b", NOW) is None  # IntegrityError: someone was first
    assert PeriodicRun.objects.count() == Job.objects.count() == 1


def test_a_job_declared_with_its_period_gets_the_period_start(effect_tables):
    scheduler.schedule_due(check_schedule(FAST[:1]), now=NOW)  # run inline (the tests' default)
    assert [(name, start) for name, start, _pid in rows("jobs_test_period")] == [
        ("test.every-2s", "2026-05-01T10:00:00+00:00")
    ]


def test_the_scheduler_sleeps_until_the_next_period_starts():
    schedule = check_schedule(FAST)
    assert scheduler.seconds_to_next(schedule, now=NOW) == pytest.approx(1.0)
    assert scheduler.seconds_to_next([], now=NOW) == 30.0
