"""The intake service: what is stored, what is refused and why, replays, conflicts, outages."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from egsu.ami import intake, services, wire
from egsu.ami.models import AmiBatch, Meter, MeterEvent, MeteringObject, MeterState
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery, StoreUnavailableError
from tests.ami.conftest import DAY, document


def send(world, doc: dict, head_end=None) -> intake.Answer:
    batch = wire.parse_json(json.dumps(doc).encode())
    return intake.receive(head_end or world.head_end, batch, transport="rest")


def stored_count() -> int:
    return get_store().count(ReadingQuery())


@pytest.mark.django_db
def test_valid_values_are_stored_under_object_and_meter_ids(world):
    # given one quarter-hour value of a registered meter
    meter = world.meters[0]
    doc = document(
        "b1",
        intervals=[{"meter": meter.serial_number, "channel": "A+", "start": DAY.isoformat(), "value": 1.25}],
    )
    # when it is sent
    answer = send(world, doc)
    # then it is stored as TP-1 / <meter id> / A+ and the answer says so
    assert answer.status == 200
    assert answer.body["status"] == "stored"
    assert answer.body["values"] == {"new": 1, "duplicate": 0, "revised": 0}
    [row] = list(get_store().latest(ReadingQuery()))
    assert (row.key.object_id, row.key.device_id, row.key.quantity) == ("TP-1", str(meter.pk), "A+")
    assert (row.interval, row.value, row.unit, row.commercial) == ("PT15M", Decimal("1.25"), "kWh", True)
    assert row.period_start == DAY
    assert row.source == "ami:hes-a:b1"


@pytest.mark.parametrize(
    ("item", "code"),
    [
        pytest.param(
            {"channel": "A+", "start": DAY + timedelta(minutes=5)}, "misaligned", id="not-on-15-minutes"
        ),
        pytest.param({"channel": "A+", "start": DAY + timedelta(days=3650)}, "future-time", id="future"),
        pytest.param({"channel": "Q", "start": DAY}, "unknown-channel", id="channel-not-on-meter"),
        pytest.param({"channel": "A+", "start": DAY, "value": -1}, "implausible-value", id="negative-energy"),
        pytest.param({"channel": "A+", "start": DAY, "value": "1e9"}, "implausible-value", id="too-large"),
        pytest.param(
            {"channel": "A+", "start": DAY, "value": "0.0000000000001"}, "implausible-value", id="too-precise"
        ),
        pytest.param({"channel": "A+", "start": "2025-06-02T00:00:00"}, "bad-time", id="no-offset"),
        pytest.param({"channel": "A+", "start": DAY, "value": "abc"}, "bad-value", id="not-a-number"),
        pytest.param({"channel": "A+", "start": DAY, "meter": "NOPE"}, "unknown-meter", id="unknown-meter"),
    ],
)
@pytest.mark.django_db
def test_invalid_values_are_refused_with_a_code(world, item, code):
    # given one good value and one bad one
    meter = world.meters[0]
    bad = {"meter": meter.serial_number, "value": "1"} | item
    bad["start"] = bad["start"] if isinstance(bad["start"], str) else bad["start"].isoformat()
    good = {"meter": meter.serial_number, "channel": "A-", "start": DAY.isoformat(), "value": "2"}
    # when both are sent
    answer = send(world, document("b-bad", intervals=[good, bad]))
    # then only the good one is stored and the bad one is refused by index and code
    assert answer.body["status"] == "partly-stored"
    assert answer.body["stored"] == 1
    [refusal] = answer.body["refused"]
    assert (refusal["section"], refusal["index"], refusal["code"]) == ("intervals", 1, code)
    assert stored_count() == 1


@pytest.mark.django_db
def test_another_subjects_meter_is_unknown_and_nothing_is_stored(world):
    # given a meter of subject A, and the head-end of subject B
    meter = world.meters[0]
    doc = document(
        "x1",
        intervals=[{"meter": meter.serial_number, "channel": "A+", "start": DAY.isoformat(), "value": 1}],
    )
    # when B sends a value for A's meter
    answer = send(world, doc, head_end=world.other_head_end)
    # then it is refused as unknown, and nothing is stored
    assert answer.body["status"] == "refused"
    assert answer.body["refused"][0]["code"] == "unknown-meter"
    assert stored_count() == 0


@pytest.mark.django_db
def test_inactive_meters_are_refused(world):
    meter = world.meters[0]
    Meter.objects.filter(pk=meter.pk).update(active=False)
    doc = document(
        "i1",
        intervals=[{"meter": meter.serial_number, "channel": "A+", "start": DAY.isoformat(), "value": 1}],
    )
    assert send(world, doc).body["refused"][0]["code"] == "inactive-meter"


@pytest.mark.django_db
def test_a_replay_gets_the_stored_answer_and_changes_nothing(world):
    # given a stored batch
    meter = world.meters[0]
    doc = document(
        "r1",
        intervals=[{"meter": meter.serial_number, "channel": "A+", "start": DAY.isoformat(), "value": "1.5"}],
    )
    first = send(world, doc)
    # when the same batch arrives again
    again = send(world, doc)
    # then the answer is the first one, word for word, and the store holds one value, one revision
    assert again.replay is True
    assert again.body == first.body
    assert stored_count() == 1
    assert AmiBatch.objects.count() == 1


@pytest.mark.django_db
def test_the_same_batch_id_with_other_content_is_a_conflict(world):
    meter = world.meters[0]
    item = {"meter": meter.serial_number, "channel": "A+", "start": DAY.isoformat(), "value": "1.5"}
    send(world, document("c1", intervals=[item]))
    answer = send(world, document("c1", intervals=[item | {"value": "2"}]))
    assert answer.status == 409
    assert answer.body["code"] == "batch-id-reused"
    assert [r.value for r in get_store().latest(ReadingQuery())] == [Decimal("1.5")]


@pytest.mark.django_db
def test_a_new_batch_with_a_changed_value_adds_a_revision(world):
    meter = world.meters[0]
    item = {"meter": meter.serial_number, "channel": "A+", "start": DAY.isoformat(), "value": "1.5"}
    send(world, document("v1", intervals=[item]))
    answer = send(world, document("v2", intervals=[item | {"value": "1.75"}]))
    assert answer.body["values"] == {"new": 0, "duplicate": 0, "revised": 1}


@pytest.mark.django_db
def test_register_readings_are_daily_snapshots(world):
    meter = world.meters[0]
    doc = document(
        "reg",
        registers=[
            {"meter": meter.serial_number, "channel": "A+", "at": DAY.isoformat(), "value": "12345.6"},
            {
                "meter": meter.serial_number,
                "channel": "A+",
                "at": (DAY + timedelta(hours=1)).isoformat(),
                "value": "1",
            },
        ],
    )
    answer = send(world, doc)
    assert [r["code"] for r in answer.body["refused"]] == ["misaligned"]
    [row] = list(get_store().latest(ReadingQuery()))
    assert (row.key.quantity, row.interval, row.value) == ("reg:A+", "P1D", Decimal("12345.6"))


@pytest.mark.django_db
def test_events_are_stored_once_and_alarms_flagged(world):
    # given two events, one an alarm, sent twice in two batches (MTR-10 re-sends)
    meter = world.meters[0]
    events = [
        {"meter": meter.serial_number, "code": "COVER_OPENED", "at": DAY.isoformat()},
        {"meter": meter.serial_number, "code": 202, "at": DAY.isoformat()},
        {"meter": meter.serial_number, "code": "NO_SUCH_EVENT", "at": DAY.isoformat()},
    ]
    first = send(world, document("e1", events=events))
    second = send(world, document("e2", events=events))
    # then each is stored once, the alarm is flagged, and the unknown code is refused
    assert first.body["events"] == {"new": 2, "duplicate": 0}
    assert second.body["events"] == {"new": 0, "duplicate": 2}
    assert [r["code"] for r in first.body["refused"]] == ["unknown-event"]
    assert sorted(MeterEvent.objects.values_list("code", "alarm")) == [(101, True), (202, False)]


@pytest.mark.django_db
def test_the_newest_state_wins(world):
    meter = world.meters[0]
    newer = {
        "meter": meter.serial_number,
        "at": (DAY + timedelta(hours=2)).isoformat(),
        "relay": "off",
        "relayReason": "limit",
    }
    older = {"meter": meter.serial_number, "at": DAY.isoformat(), "relay": "on"}
    send(world, document("s1", states=[newer]))
    send(world, document("s2", states=[older]))
    state = MeterState.objects.get(meter=meter)
    assert (state.relay, state.relay_reason, state.batch_id) == ("off", "limit", "s1")


@pytest.mark.django_db
def test_gas_volume_at_standard_conditions_is_derived(world):
    # given an hourly-band gas meter with Vop, Pabs, Tgas and Vstd channels at a distribution point
    gdp = MeteringObject.objects.create(
        code="GDP-1", kind="gas_distribution_point", name="GRP 1", region="Astana",
        gas_composition={"methane": 0.97, "ethane": 0.02, "nitrogen": 0.01},
    )  # fmt: skip
    [meter] = services.register_meters(
        [
            Meter(
                subject=world.subject,
                metering_object=gdp,
                energy="gas",
                meter_type="GAS-I",
                model="G",
                serial_number="G1",
                gas_band="medium",
            )
        ],
        ["Vop", "Pabs", "Tgas", "Vstd"],
    )
    start = DAY.isoformat()
    items = [
        {"meter": "G1", "channel": "Vop", "start": start, "value": "100"},
        {"meter": "G1", "channel": "Pabs", "start": start, "value": "601.325"},
        {"meter": "G1", "channel": "Tgas", "start": start, "value": "5"},
    ]
    # when the operating values arrive
    answer = send(world, document("g1", intervals=items))
    # then Vstd is computed with GERG-2008 Z and stored hourly
    from egsu.ami.gas import standard_volume

    expected = standard_volume(Decimal(100), Decimal("601.325"), Decimal(5), gdp.gas_composition)
    assert answer.body["derived"] == {"Vstd": 1}
    rows = {r.key.quantity: r for r in get_store().latest(ReadingQuery(device_ids=[str(meter.pk)]))}
    assert rows["Vstd"].value == expected
    assert rows["Vstd"].interval == "PT1H"
    assert Decimal(620) < expected < Decimal(650)


@pytest.mark.django_db
def test_a_storage_outage_stores_and_records_nothing(world, monkeypatch):
    # given a store that is down
    class DownStore:
        def write(self, rows):
            raise StoreUnavailableError("down")

    monkeypatch.setattr(intake, "get_store", lambda: DownStore())
    meter = world.meters[0]
    doc = document(
        "o1",
        intervals=[{"meter": meter.serial_number, "channel": "A+", "start": DAY.isoformat(), "value": 1}],
        events=[{"meter": meter.serial_number, "code": "LOW_BATTERY", "at": DAY.isoformat()}],
    )
    # when the batch arrives, it raises, and nothing of it is recorded
    with pytest.raises(StoreUnavailableError):
        send(world, doc)
    assert AmiBatch.objects.count() == 0
    assert MeterEvent.objects.count() == 0
    # and when the store is back, the same batch is stored in full
    monkeypatch.undo()
    assert send(world, doc).body["status"] == "stored"


def test_ten_minute_gas_values_are_stored(world):
    """AMI-44: a gas meter above 2,000 m³/h reports every 10 minutes; the store keeps those values."""
    from egsu.readings.store import KNOWN_INTERVALS

    assert "PT10M" in KNOWN_INTERVALS
    assert intake._interval_problem("PT10M", DAY + timedelta(minutes=10), DAY + timedelta(days=1)) is None
    assert (
        intake._interval_problem("PT10M", DAY + timedelta(minutes=5), DAY + timedelta(days=1))[0]
        != "interval-not-stored"
    )


# -- estimated values (AMI-16: substitution of missing results stays visible) -------------------


@pytest.mark.django_db
def test_estimated_values_are_stored_as_estimated_and_replaced_by_the_measured_ones(world):
    # given a quarter hour the head-end substituted (meter offline), and a register it estimated
    meter = world.meters[0]
    interval = {"meter": meter.serial_number, "channel": "A+", "start": DAY.isoformat(), "value": "1.5"}
    register = {"meter": meter.serial_number, "channel": "A+", "at": DAY.isoformat(), "value": "100"}
    answer = send(
        world,
        document(
            "est-1",
            intervals=[interval | {"quality": "estimated"}],
            registers=[register | {"quality": "estimated"}],
        ),
    )
    # then both are stored, flagged estimated
    assert (answer.body["status"], answer.body["values"]["new"]) == ("stored", 2)
    latest = {r.key.quantity: r for r in get_store().latest(ReadingQuery())}
    assert {q: r.quality for q, r in latest.items()} == {"A+": "estimated", "reg:A+": "estimated"}
    # when the measured values arrive in a new batch, with the same numbers
    answer = send(world, document("est-2", intervals=[interval], registers=[register]))
    # then each becomes a new revision, good, and the estimate stays in the history
    assert answer.body["values"] == {"new": 0, "duplicate": 0, "revised": 2}
    latest = {r.key.quantity: r for r in get_store().latest(ReadingQuery())}
    assert {q: (r.revision, r.quality, r.source) for q, r in latest.items()} == {
        "A+": (2, "good", "ami:hes-a:est-2"),
        "reg:A+": (2, "good", "ami:hes-a:est-2"),
    }
    history = get_store().history(latest["A+"].key, "PT15M", DAY)
    assert [(r.quality, r.value) for r in history] == [
        ("estimated", Decimal("1.5")),
        ("good", Decimal("1.5")),
    ]
    # and an estimate re-sent later for the measured slot changes nothing
    answer = send(world, document("est-3", intervals=[interval | {"quality": "estimated"}]))
    assert answer.body["values"] == {"new": 0, "duplicate": 1, "revised": 0}


@pytest.mark.django_db
def test_device_fault_is_kept_and_unknown_qualities_are_refused(world):
    meter = world.meters[0]
    item = {"meter": meter.serial_number, "channel": "A+", "start": DAY.isoformat(), "value": "1"}
    answer = send(
        world,
        document(
            "q1",
            intervals=[
                item | {"quality": "device_fault"},
                item | {"channel": "A-", "quality": "substituted"},
            ],
        ),
    )
    assert [(r["index"], r["code"]) for r in answer.body["refused"]] == [(1, "bad-quality")]
    [row] = list(get_store().latest(ReadingQuery()))
    assert (row.key.quantity, row.quality) == ("A+", "device_fault")


def _gas_meter(world) -> Meter:
    gdp = MeteringObject.objects.create(
        code="GDP-1", kind="gas_distribution_point", name="GRP 1", region="Astana",
        gas_composition={"methane": 0.97, "ethane": 0.02, "nitrogen": 0.01},
    )  # fmt: skip
    [meter] = services.register_meters(
        [
            Meter(
                subject=world.subject, metering_object=gdp, energy="gas", meter_type="GAS-I", model="G",
                serial_number="G1", gas_band="medium",
            )
        ],
        ["Vop", "Pabs", "Tgas", "Vstd"],
    )  # fmt: skip
    return meter


@pytest.mark.parametrize(
    ("estimated", "expected"),
    [
        pytest.param("Vop", "estimated", id="estimated-operating-volume"),
        pytest.param("Tgas", "estimated", id="estimated-temperature"),
        pytest.param(None, "good", id="all-measured"),
    ],
)
@pytest.mark.django_db
def test_an_estimated_gas_input_gives_an_estimated_standard_volume(world, estimated, expected):
    """AMI-45 with AMI-16: Vstd is computed from an estimate too, and says it is one."""
    from egsu.ami.gas import standard_volume

    meter = _gas_meter(world)
    start = DAY.isoformat()
    items = [
        {"meter": "G1", "channel": "Vop", "start": start, "value": "100"},
        {"meter": "G1", "channel": "Pabs", "start": start, "value": "601.325"},
        {"meter": "G1", "channel": "Tgas", "start": start, "value": "5"},
    ]
    items = [i | {"quality": "estimated"} if i["channel"] == estimated else i for i in items]
    answer = send(world, document("g-est", intervals=items))
    assert answer.body["derived"] == {"Vstd": 1}
    rows = {r.key.quantity: r for r in get_store().latest(ReadingQuery(device_ids=[str(meter.pk)]))}
    composition = meter.metering_object.gas_composition
    assert rows["Vstd"].value == standard_volume(Decimal(100), Decimal("601.325"), Decimal(5), composition)
    assert rows["Vstd"].quality == expected
    assert rows["Vop"].quality == ("estimated" if estimated == "Vop" else "good")


@pytest.mark.django_db
def test_a_faulty_gas_input_gives_no_standard_volume_and_a_sent_one_is_kept(world):
    meter = _gas_meter(world)
    start = DAY.isoformat()
    items = [
        {"meter": "G1", "channel": "Vop", "start": start, "value": "100", "quality": "device_fault"},
        {"meter": "G1", "channel": "Pabs", "start": start, "value": "601.325"},
        {"meter": "G1", "channel": "Tgas", "start": start, "value": "5"},
    ]
    assert send(world, document("g-fault", intervals=items)).body["derived"] == {"Vstd": 0}
    # the corrector's own estimated Vstd is stored as sent, and nothing is computed over it
    hour = (DAY + timedelta(hours=1)).isoformat()
    items = [dict(i, start=hour, quality="good") for i in items] + [
        {"meter": "G1", "channel": "Vstd", "start": hour, "value": "630", "quality": "estimated"}
    ]
    assert send(world, document("g-sent", intervals=items)).body["derived"] == {"Vstd": 0}
    [vstd] = list(
        get_store().latest(ReadingQuery(device_ids=[str(meter.pk)], quantities=["Vstd"], start=DAY))
    )
    assert (vstd.value, vstd.quality) == (Decimal(630), "estimated")


@pytest.mark.django_db
def test_a_slot_raced_by_another_batch_is_stored_on_a_second_attempt(world, monkeypatch):
    # given a meter's quarter hour already in the arrivals ledger (batch a, channel A+)
    from egsu.monitoring import ledger as meter_arrivals
    from egsu.monitoring.models import Arrival

    meter = world.meters[0]
    item = {"meter": meter.serial_number, "start": DAY.isoformat(), "value": 1}
    assert send(world, document("a", intervals=[{**item, "channel": "A+"}])).status == 200
    # and a second batch (channel A-) that does not see that slot when it looks (a concurrent commit)
    real_existing, looks = meter_arrivals._existing, []

    def racing(slots):
        looks.append(len(slots))
        return set() if len(looks) == 1 else real_existing(slots)

    monkeypatch.setattr(meter_arrivals, "_existing", racing)
    # when it is received
    answer = send(world, document("b", intervals=[{**item, "channel": "A-"}]))
    # then the clash on the slot is retried, not answered 503: stored, the ledger holds one slot
    assert (answer.status, answer.body["values"]["new"], len(looks)) == (200, 1, 2)
    assert Arrival.objects.filter(device_id=str(meter.pk)).count() == 1
    assert AmiBatch.objects.filter(batch_id="b").exists()
