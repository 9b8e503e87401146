"""Retention by itself (DIG-30; issue 17 item 4): export files, AMI batch records and readings per the
operator's policy, each by a scheduled job that refuses a period under its minimum and is audited.
(The journal's 3 years, INT-36, and the audit trail's 12 months: tests/jobs/test_retention.py.)"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from egsu.access.models import AuditEvent
from egsu.ops import retention
from egsu.readings.store import ReadingQuery, ReadingRow, SeriesKey
from egsu_core.clock import utcnow

DAY = timedelta(days=1)


def _export(user, age: timedelta, name: str, exports_dir):
    from egsu.reports.models import ExportJob

    (exports_dir / name).write_bytes(b"rows")
    job = ExportJob.objects.create(
        created_by=user,
        created_at=utcnow() - age,
        what="readings",
        format="csv",
        status="DONE",
        file_name=name,
    )
    return job


def _batch(head_end, batch_id: str, age: timedelta):
    from egsu.ami.models import AmiBatch

    batch = AmiBatch.objects.create(
        head_end=head_end, batch_id=batch_id, digest="0" * 64, transport="rest", received=1, stored=1, refused=0,
        answer={},
    )  # fmt: skip
    AmiBatch.objects.filter(pk=batch.pk).update(received_at=utcnow() - age)


def _reading(start: datetime, value: str) -> ReadingRow:
    return ReadingRow(
        key=SeriesKey("OBJ-1", "DEV-1", "volume"), interval="PT2H", period_start=start, value=Decimal(value),
        unit="m3", quality="good", source="test",
    )  # fmt: skip


@pytest.mark.django_db
def test_the_scheduled_retention_job_purges_exports_and_ami_batches_and_is_audited(settings, tmp_path):
    from django.contrib.auth import get_user_model

    from egsu.ami.models import AmiBatch
    from egsu.jobs import scheduler
    from egsu.jobs.registry import load_schedule
    from egsu.reports.models import ExportJob
    from tests.registry.factories import make_subject

    settings.EXPORTS_DIR = str(tmp_path)
    user = get_user_model().objects.create_user("exporter")
    _export(user, 100 * DAY, "old.csv", tmp_path), _export(user, 10 * DAY, "new.csv", tmp_path)
    from egsu.ami import services as ami

    head_end, _token = ami.create_head_end("hes-r", make_subject(name="Utility R"))
    _batch(head_end, "old", 400 * DAY), _batch(head_end, "new", 30 * DAY)
    # when the scheduler's retention job runs (inline in tests, as a worker runs it)
    scheduler.schedule_due([e for e in load_schedule() if e.name == "ops.retention"], by="test")
    # then exports past 90 days (with their files) and batch records past 12 months are gone
    assert list(ExportJob.objects.values_list("file_name", flat=True)) == ["new.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.csv"]
    assert list(AmiBatch.objects.values_list("batch_id", flat=True)) == ["new"]
    events = {e.after["kind"]: e for e in AuditEvent.objects.filter(event="ops.retention_purged")}
    assert (events["exports"].after["deleted"], events["exports"].after["files"]) == (1, 1)
    assert (
        events["ami_batches"].after["deleted"] == 1
        and events["ami_batches"].source == "periodic job ops.retention"
    )
    assert "readings" not in events  # the default policy keeps readings for ever


@pytest.mark.parametrize(
    ("purge", "days"),
    [
        (retention.purge_exports, 30),
        (retention.purge_ami_batches, 365),
        (retention.purge_readings, 1095),
        (retention.purge_readings_claims, 6),
    ],
    ids=[
        "exports-under-a-month",
        "ami-batches-under-12-months",
        "readings-under-3-years",
        "claims-under-a-week",
    ],
)
def test_a_period_under_the_minimum_is_refused_and_nothing_is_deleted(purge, days, db):
    with pytest.raises(ValueError, match="at least"):
        purge(days=days, source="test")
    assert not AuditEvent.objects.filter(event="ops.retention_purged").exists()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("EGSU_EXPORTS_RETENTION_DAYS", "7"),
        ("EGSU_AMI_BATCHES_RETENTION_DAYS", "90"),
        ("EGSU_READINGS_RETENTION_DAYS", "365"),
        ("EGSU_READINGS_CLAIMS_RETENTION_DAYS", "6"),
    ],
)
def test_the_configuration_refuses_a_short_period_at_start(monkeypatch, variable, value):
    from egsu import conf

    monkeypatch.setenv(variable, value)
    with pytest.raises(conf.ConfigError, match=variable):
        conf.load()


@pytest.mark.django_db
def test_readings_per_policy_go_by_whole_astana_days_every_revision(settings):
    from egsu.readings.services import get_store

    settings.CONFIG = replace(settings.CONFIG, readings_retention_days=1200)
    store = get_store()
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    cutoff = retention.readings_cutoff(1200, now)
    assert cutoff.astimezone(UTC).hour in (18, 19)  # an Astana midnight
    store.write([_reading(cutoff - timedelta(hours=2), "1"), _reading(cutoff, "2")])
    store.write([_reading(cutoff - timedelta(hours=2), "1.5")])  # a revision of the old value
    assert retention.purge_readings(now=now, source="test") == 2
    assert [r.value for r in store.newest(ReadingQuery())] == [Decimal("2")]
    event = AuditEvent.objects.get(event="ops.retention_purged")
    assert (event.after["kind"], event.after["deleted"], event.after["retention_days"]) == (
        "readings",
        2,
        1200,
    )


def test_clickhouse_drops_rows_and_the_daily_rollup_together():
    from egsu_core.clock import astana_midnight
    from tests.readings import store_backends

    store = store_backends.clickhouse_store("server")  # skips loudly when no server can be started
    try:
        cutoff = astana_midnight(date(2025, 3, 1))  # 2025-02-28 19:00 UTC
        store.write([
            _reading(datetime(2025, 1, 10, 6, tzinfo=UTC), "1"),  # a whole month before: its partition goes
            _reading(cutoff - timedelta(hours=2), "2"),  # the last Astana day before the cutoff
            _reading(cutoff, "4"),  # the first day kept (the same UTC month as the one before)
            _reading(datetime(2025, 3, 10, 6, tzinfo=UTC), "8"),
        ])  # fmt: skip
        assert store.purge_before(cutoff) == 2
        assert store.totals(ReadingQuery()) == {"volume": Decimal(12)}
        daily = store.aggregate(ReadingQuery(), bucket="P1D", group="all")
        assert sum(row.sum for row in daily) == Decimal(12) and len(list(daily)) == 2
        # the claims of the purged slots went with them (ADR 0013): sent again, a value is NEW
        assert store.claims.count() == 2 and store.claims.horizon() == int(cutoff.timestamp())
        assert [o.value for o in store.write([_reading(cutoff - timedelta(hours=2), "2")])] == ["NEW"]
    finally:
        store_backends.drop_database(store)
