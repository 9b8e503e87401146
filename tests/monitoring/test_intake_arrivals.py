"""A real SendMessage through egsu.intake.services.receive lands in the ledger and the rollups."""

from __future__ import annotations

from egsu.intake import services
from egsu.monitoring.models import Arrival, PointDay, SubjectDay
from egsu.registry.models import Subject
from egsu_core.clock import astana_date
from tests.intake.conftest import stand  # noqa: F401 - the demo stand fixture
from tests.intake.test_intake_services import _one_record, _request


def test_a_message_updates_the_ledger_and_rollups_once(stand, settings):  # noqa: F811 - the fixture
    demo = stand
    settings.EGSU_ARRIVAL_GRACE_MINUTES = 24 * 60  # the test slot is a few hours old: on time by rule
    good = _one_record(demo, hours_back=4)
    bad = dict(_one_record(demo, hours_back=6))
    bad["deviceNameId" if "deviceNameId" in bad else "deviceId"] = "999"  # no such device
    body = _request(demo, [good, bad])

    first = services.receive(body)
    again = services.receive(body)  # the same message: the journal answers, nothing is recounted

    assert first.http_status == 200 and again.body == first.body
    rows = {a.status: a for a in Arrival.objects.all()}
    assert set(rows) == {"accepted", "rejected"}
    arrival = rows["accepted"]
    assert (arrival.interval, arrival.on_time, arrival.record_count) == ("PT2H", True, 1)
    assert arrival.journal_entry_id is not None and arrival.point_id is not None
    assert rows["rejected"].point_id is None and rows["rejected"].reason_code
    owner = Subject.objects.get(bin=demo["facilities"][0]["subject_bin"])
    day = astana_date(arrival.period_start)
    rollup = SubjectDay.objects.get(subject=owner, interval="PT2H", day=day)
    assert (rollup.on_time, rollup.late) == (1, 0)
    assert sum(r.rejected for r in SubjectDay.objects.filter(subject=owner)) == 1
    assert PointDay.objects.get(point_id=arrival.point_id, day=day).on_time == 1


def test_the_same_records_in_a_new_message_are_not_double_counted(stand):  # noqa: F811
    demo = stand
    record = _one_record(demo, hours_back=4)

    services.receive(_request(demo, [record]))
    services.receive(_request(demo, [record]))  # a new messageId, the same record (INT-15 resend)

    arrival = Arrival.objects.get()
    assert (arrival.record_count, arrival.status) == (2, "accepted")
    assert sum(r.on_time + r.late for r in SubjectDay.objects.all()) == 1


def test_a_message_the_system_could_not_store_is_judged_by_its_first_receipt(stand, monkeypatch):  # noqa: F811
    """INT-13, INT-51: the System could not store a message (its store was down: SCE909, retry later);
    the sender's resend is processed hours later. Lateness is judged by the first receipt the journal
    holds, not by the resend: the System's outage does not make the sender late."""
    from datetime import UTC, datetime, timedelta

    from egsu.journal.models import JournalEntry
    from egsu.readings.store import StoreUnavailableError
    from tests.intake.test_intake_services import _code

    demo = stand
    record = _one_record(demo, hours_back=3)  # a period that ended one to three hours ago
    body = _request(demo, [record])

    class Unreachable:  # the readings store cannot be reached (the real outage: tests/ops/test_outages.py)
        def write(self, rows):
            raise StoreUnavailableError("ClickHouse is unreachable")

    store = services.get_store
    monkeypatch.setattr(services, "get_store", Unreachable)
    first = services.receive(body)
    assert (first.http_status, _code(first)) == (500, "SCE909")
    assert not Arrival.objects.exists()
    # the first attempt came inside its period (set here: the test cannot wait hours)
    entry = JournalEntry.objects.get(direction="IN", kind="message")
    received = datetime.fromisoformat(record["datetime"]).astimezone(UTC) + timedelta(hours=1)
    JournalEntry.objects.filter(pk=entry.pk).update(occurred_at=received)
    monkeypatch.setattr(services, "get_store", store)

    again = services.receive(body)  # the resend, now: by its own receipt the period is long overdue

    assert (again.http_status, _code(again)) == (200, "SCSS001")
    arrival = Arrival.objects.get()
    assert (arrival.on_time, arrival.accepted_at) == (True, received)
