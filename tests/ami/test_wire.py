"""The ami/1 document parser: JSON and CSV alike, item-level refusals, content digests."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egsu.ami import schemas, wire

JSON_DOC = {
    "format": "ami/1",
    "batchId": "hes-a:2025-06-02T10:15:0001",
    "intervals": [
        {"meter": "E1", "channel": "A+", "start": "2025-06-02T10:00:00+05:00", "value": 0.25},
        {
            "meter": "E1",
            "channel": "A-",
            "start": "2025-06-02T10:00:00+05:00",
            "value": "0",
            "quality": "device_fault",
        },
    ],
    "registers": [{"meter": "E1", "channel": "A+", "at": "2025-06-02T00:00:00+05:00", "value": "12345.67"}],
    "events": [{"meter": "E1", "code": "TERMINAL_COVER_OPENED", "at": "2025-06-02T09:58:13+05:00"}],
    "states": [
        {"meter": "E1", "at": "2025-06-02T10:14:00+05:00", "relay": "on", "online": True, "batteryLow": False}
    ],
}
CSV_DOC = (
    "kind,meter,channel,time,value,quality\n"
    "interval,E1,A+,2025-06-02T10:00:00+05:00,0.250,\n"
    "interval,E1,A-,2025-06-02T05:00:00Z,0,device_fault\n"
    "register,E1,A+,2025-06-02T00:00:00+05:00,12345.670,\n"
    "event,E1,TERMINAL_COVER_OPENED,2025-06-02T09:58:13+05:00,,\n"
)


def test_a_json_document_parses_into_items():
    batch = wire.parse_json(json.dumps(JSON_DOC).encode())
    assert batch.batch_id == "hes-a:2025-06-02T10:15:0001"
    assert [(i.channel, i.value, i.quality) for i in batch.intervals] == [
        ("A+", Decimal("0.25"), "good"),
        ("A-", Decimal(0), "device_fault"),
    ]
    assert batch.intervals[0].start.isoformat() == "2025-06-02T05:00:00+00:00"
    assert batch.events[0].code.value == 103
    assert (batch.states[0].relay, batch.states[0].online) == ("on", True)
    assert batch.refused == []
    assert batch.received == 5


def test_the_examples_validate_against_the_openapi_schema():
    schemas.BatchDocument.model_validate(JSON_DOC)


def test_csv_and_json_of_the_same_values_have_the_same_digest():
    without_states = {k: v for k, v in JSON_DOC.items() if k != "states"}
    from_json = wire.parse_json(json.dumps(without_states).encode())
    from_csv = wire.parse_csv(CSV_DOC.encode(), JSON_DOC["batchId"])
    assert from_csv.digest == from_json.digest
    assert wire.parse_json(json.dumps(JSON_DOC).encode()).digest != from_json.digest


def test_documents_without_estimates_keep_the_digests_they_had():
    # a batch stored before quality "estimated" existed must stay a replay, not become a 409
    assert (
        wire.parse_json(json.dumps(JSON_DOC).encode()).digest
        == "d5c737636b8b4a9676a5b55e6d5c861aa7e945d4806e6dd346b10de7b73043cf"
    )


ESTIMATED_JSON = {
    "format": "ami/1",
    "batchId": "hes-a:est-1",
    "intervals": [
        {"meter": "E1", "channel": "A+", "start": "2025-06-02T10:00:00+05:00", "value": "0.25"},
        {
            "meter": "E1",
            "channel": "A+",
            "start": "2025-06-02T10:15:00+05:00",
            "value": "0.24",
            "quality": "estimated",
        },
    ],
    "registers": [
        {"meter": "E1", "channel": "A+", "at": "2025-06-02T00:00:00+05:00", "value": "12345.67"},
        {
            "meter": "E1",
            "channel": "A-",
            "at": "2025-06-02T00:00:00+05:00",
            "value": "5",
            "quality": "estimated",
        },
    ],
}
ESTIMATED_CSV = (
    "kind,meter,channel,time,value,quality\n"
    "interval,E1,A+,2025-06-02T10:00:00+05:00,0.25,\n"
    "interval,E1,A+,2025-06-02T10:15:00+05:00,0.240,estimated\n"
    "register,E1,A+,2025-06-02T00:00:00+05:00,12345.67,good\n"
    "register,E1,A-,2025-06-01T19:00:00Z,5,estimated\n"
)


def test_estimated_intervals_and_registers_parse_from_json_and_csv_alike():
    """AMI-16: a head-end says which values it substituted; JSON and CSV carry it the same way."""
    from_json = wire.parse_json(json.dumps(ESTIMATED_JSON).encode())
    from_csv = wire.parse_csv(ESTIMATED_CSV.encode(), ESTIMATED_JSON["batchId"])
    for batch in (from_json, from_csv):
        assert batch.refused == []
        assert [i.quality for i in batch.intervals] == ["good", "estimated"]
        assert [(r.channel, r.quality) for r in batch.registers] == [("A+", "good"), ("A-", "estimated")]
    assert from_csv.digest == from_json.digest
    # the quality is content: the same values all good are another batch
    good = json.loads(json.dumps(ESTIMATED_JSON))
    for item in good["intervals"] + good["registers"]:
        item.pop("quality", None)
    assert wire.parse_json(json.dumps(good).encode()).digest != from_json.digest
    schemas.BatchDocument.model_validate(ESTIMATED_JSON)


def test_the_openapi_schema_lists_the_qualities_the_parser_takes():
    assert schemas.QualityCode.__args__ == wire.QUALITIES
    properties = schemas.BatchDocument.model_json_schema()["$defs"]
    for item in ("IntervalItem", "RegisterItem"):
        assert properties[item]["properties"]["quality"]["enum"] == list(wire.QUALITIES)


@pytest.mark.parametrize("section", ["intervals", "registers"])
@pytest.mark.parametrize("quality", ["substituted", "ESTIMATED", 1, None])
def test_an_unknown_quality_refuses_the_item(section, quality):
    item = dict(ESTIMATED_JSON[section][1], quality=quality)
    batch = wire.parse_json(json.dumps({"format": "ami/1", "batchId": "q", section: [item]}).encode())
    assert [(r.section, r.code) for r in batch.refused] == [(section, "bad-quality")]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "not-json"),
        (b"[]", "bad-document"),
        (json.dumps({"format": "ami/2", "batchId": "x"}).encode(), "bad-format"),
        (json.dumps({"format": "ami/1"}).encode(), "bad-batch-id"),
        (json.dumps({"format": "ami/1", "batchId": "a b"}).encode(), "bad-batch-id"),
        (json.dumps({"format": "ami/1", "batchId": "x", "intervals": {}}).encode(), "bad-document"),
        # JSON may escape half a UTF-16 pair; such "text" cannot be stored or hashed (a 500 before)
        (
            b'{"format": "ami/1", "batchId": "x", "intervals": [{"meter": "E\\ud800", "channel": "A+",'
            b' "start": "2025-06-02T19:00:00+00:00", "value": "1"}]}',
            "bad-document",
        ),
    ],
    ids=[
        "not-json",
        "not-object",
        "wrong-version",
        "no-batch-id",
        "bad-batch-id",
        "section-not-list",
        "lone-surrogate",
    ],
)
def test_document_faults_refuse_the_whole_document(body, code):
    with pytest.raises(wire.DocumentError) as caught:
        wire.parse_json(body)
    assert caught.value.code == code


def test_a_csv_needs_its_header():
    with pytest.raises(wire.DocumentError, match="header"):
        wire.parse_csv(b"meter,value\nE1,1\n", "b1")


_items = st.lists(
    st.dictionaries(
        st.sampled_from(["meter", "channel", "start", "value", "quality", "code", "at"]),
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30)),
    ),
    max_size=5,
)


@given(st.fixed_dictionaries({"intervals": _items, "registers": _items, "events": _items, "states": _items}))
def test_any_items_are_either_parsed_or_refused_never_crash(sections):
    body = json.dumps({"format": "ami/1", "batchId": "fuzz", **sections}, default=str).encode()
    batch = wire.parse_json(body)
    assert batch.received == sum(len(items) for items in sections.values())
    assert all(r.code for r in batch.refused)


def test_well_formed_intervals_are_read_as_columns_exactly_as_item_by_item():
    """The column reader (issue 13) gives the items, and so the digest, the item reader gives."""
    items = [
        {"meter": f"E{n % 7}", "channel": ("A+", "A-")[n % 2], "start": f"2025-06-02T0{n % 3}:00:00+05:00",
         "value": ("1.50", 2, "0.000001", "-3")[n % 4], **({"quality": "estimated"} if n % 5 == 0 else {})}
        for n in range(40)
    ]  # fmt: skip
    document = {"format": "ami/1", "batchId": "cols", "intervals": items}
    batch = wire.parse_json(json.dumps(document).encode())
    times: dict = {}
    expected = [wire._interval(n, item, times) for n, item in enumerate(items)]
    assert list(batch.intervals) == expected
    assert batch.intervals[3] == expected[3]
    # one padded meter sends the whole section through the item reader: the same values, same digest
    padded = [*items[:-1], {**items[-1], "meter": f" {items[-1]['meter']} "}]
    other = wire.parse_json(json.dumps({**document, "intervals": padded}).encode())
    assert list(other.intervals) == expected
    assert other.digest == batch.digest


def test_repeated_value_texts_share_one_number_and_signed_zero_stays_its_own_value():
    """Each distinct value text is read once (issue 13: meters repeat a few texts); equal numbers written
    differently digest alike, as always, but -0 is not 0: the digest tells the two batches apart."""

    def batch(*values):
        items = [{"meter": "E1", "channel": "A+", "start": f"2025-06-02T0{n}:00:00+05:00", "value": v}
                 for n, v in enumerate(values)]  # fmt: skip
        return wire.parse_json(json.dumps({"format": "ami/1", "batchId": "z", "intervals": items}).encode())

    repeated = batch("0.125", "0.125", "1.50", "1.5")
    assert repeated.intervals.value[0] is repeated.intervals.value[1]
    assert repeated.intervals.value == [Decimal("0.125"), Decimal("0.125"), Decimal("1.5"), Decimal("1.5")]
    assert repeated.digest == batch("0.125", "0.1250", "1.5", "1.50").digest
    assert batch("0", "-0").digest != batch("0", "0").digest
    assert batch("-0", "0").digest != batch("-0", "-0").digest
