"""Retention by itself: the journal (INT-36: three years) and the audit trail (12 months) are purged by
periodic jobs that refuse a shorter period and record each purge in the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from egsu.access import tasks as audit_tasks
from egsu.access.models import AuditEvent
from egsu.jobs import scheduler
from egsu.jobs.models import Job
from egsu.jobs.registry import load_schedule
from egsu.journal import tasks as journal_tasks
from egsu.journal.models import JournalEntry
from egsu_core.clock import utcnow
from tests.journal.factories import make_entry

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def _old_audit_event(age: timedelta) -> AuditEvent:
    return AuditEvent.objects.create(occurred_at=utcnow() - age, event="auth.sign_in", summary="old")


def test_the_scheduled_retention_jobs_purge_past_the_minimum_and_are_audited():
    # given journal entries and audit events on both sides of their retention
    now = utcnow()
    make_entry(now - 1100 * DAY), make_entry(now - 1090 * DAY)
    _old_audit_event(400 * DAY), _old_audit_event(300 * DAY)
    # when the scheduler's retention jobs run (inline in the tests, as a worker would run them)
    schedule = [e for e in load_schedule() if e.name in {"journal.retention", "audit.retention"}]
    scheduler.schedule_due(schedule, by="test")
    # then only what is past three years / twelve months is gone, and each purge is in the audit trail
    assert JournalEntry.objects.count() == 1
    assert AuditEvent.objects.filter(summary="old").count() == 1
    journal = AuditEvent.objects.get(event="journal.purged")
    assert (journal.source, journal.after["deleted"], journal.after["retention_days"]) == (
        "periodic job journal.retention", 1, 1096,
    )  # fmt: skip
    audit = AuditEvent.objects.get(event="audit.purged")
    assert (audit.source, audit.after["deleted"]) == ("periodic job audit.retention", 1)
    assert set(Job.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


@pytest.mark.parametrize(
    ("purge", "too_short"),
    [(journal_tasks.purge_and_audit, 1095 * DAY), (audit_tasks.purge_and_audit, 365 * DAY)],
    ids=["journal-under-3-years", "audit-under-12-months"],
)
def test_a_retention_under_the_minimum_is_refused_and_nothing_is_deleted(purge, too_short):
    make_entry(utcnow() - 1094 * DAY)
    _old_audit_event(365 * DAY)
    before = (JournalEntry.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValueError):
        purge(older_than=too_short, source="test")
    assert (JournalEntry.objects.count(), AuditEvent.objects.count()) == before


def test_the_journal_cli_purge_is_audited_too():
    from typer.testing import CliRunner

    from egsu.cli.journal import app

    make_entry(utcnow() - 1200 * DAY)
    result = CliRunner().invoke(app, ["purge"])
    assert result.exit_code == 0, result.output
    assert AuditEvent.objects.get(event="journal.purged").source == "egsu journal purge"
