"""The SQL readings store: NEW / DUPLICATE / REVISED, history, latest, exact values."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from egsu.readings.models import Reading
from egsu.readings.store import (
    Quality,
    ReadingQuery,
    SeriesKey,
    UnrepresentableValueError,
    WriteOutcome,
    repeats_stored,
)
from tests.readings.factories import DAY, make_row

NEW, DUPLICATE, REVISED = WriteOutcome.NEW, WriteOutcome.DUPLICATE, WriteOutcome.REVISED
MASS = SeriesKey("407001", "1", "mass")


def test_first_write_of_a_key_is_new_revision_1(store):
    # given an empty store, when a value is written
    outcomes = store.write([make_row("80.46875")])
    # then it is NEW and stored as revision 1
    assert outcomes == [NEW]
    assert [(r.revision, r.value, r.source) for r in store.history(MASS, "P1D", DAY)] == [
        (1, Decimal("80.46875"), "msg-1")
    ]


@pytest.mark.parametrize(
    ("second", "unit", "expected"),
    [
        pytest.param("80.46875", "t", DUPLICATE, id="same-value"),
        pytest.param("80.468750000", "t", DUPLICATE, id="same-value-other-scale"),
        pytest.param("80.46876", "t", REVISED, id="other-value"),
        pytest.param("80.46875", "kg", REVISED, id="same-number-other-unit"),
    ],
)
def test_rewriting_a_key(store, second, unit, expected):
    # given a stored value
    store.write([make_row("80.46875")])
    # when the same key arrives again
    outcomes = store.write([make_row(second, unit=unit, source="msg-2")])
    # then it is a duplicate (nothing written) or a new revision
    assert outcomes == [expected]
    assert Reading.objects.count() == (1 if expected is DUPLICATE else 2)


GOOD, FAULT, UNKNOWN, ESTIMATED = (
    Quality.GOOD.value,
    Quality.DEVICE_FAULT.value,
    Quality.DEVICE_UNKNOWN.value,
    Quality.ESTIMATED.value,
)


@pytest.mark.parametrize(
    ("first", "second", "value", "expected"),
    [
        pytest.param(ESTIMATED, GOOD, "80.46875", REVISED, id="measured-replaces-estimate"),
        pytest.param(ESTIMATED, FAULT, "80.46875", REVISED, id="faulty-reading-replaces-estimate"),
        pytest.param(ESTIMATED, ESTIMATED, "80.46875", DUPLICATE, id="same-estimate-again"),
        pytest.param(ESTIMATED, ESTIMATED, "80.5", REVISED, id="other-estimate"),
        pytest.param(GOOD, ESTIMATED, "80.46875", DUPLICATE, id="estimate-never-relabels-a-measured-value"),
        pytest.param(GOOD, ESTIMATED, "80.5", REVISED, id="other-value-estimated"),
        pytest.param(FAULT, GOOD, "80.46875", DUPLICATE, id="other-qualities-as-before"),
        pytest.param(UNKNOWN, GOOD, "80.46875", DUPLICATE, id="device-status-as-before"),
    ],
)
def test_quality_decides_only_when_an_estimate_is_replaced(store, first, second, value, expected):
    """AMI-16: a substituted value stays visible as such until the measured value replaces it."""
    # given a stored value of some quality
    store.write([make_row("80.46875", quality=first)])
    # when the same key arrives again from another source
    outcomes = store.write([make_row(value, quality=second, source="msg-2")])
    # then the outcome follows the shared rule, and the newest revision carries the new quality if written
    assert outcomes == [expected]
    assert repeats_stored(Decimal("80.46875"), "t", first, make_row(value, quality=second)) is (
        expected is DUPLICATE
    )
    [latest] = store.latest(ReadingQuery(object_ids=["407001"]))
    assert latest.quality == (first if expected is DUPLICATE else second)


def test_a_replayed_batch_with_measured_values_replaces_its_estimates(store):
    # given a head-end's batch of 15-minute values, every other one estimated (meter offline)
    start = datetime(2025, 6, 1, 19, 0, tzinfo=UTC)
    rows = [
        make_row(
            f"{i}.5",
            object_id="TP-1",
            device_id="7",
            quantity="A+",
            unit="kWh",
            interval="PT15M",
            period_start=start + timedelta(minutes=15 * i),
            quality=ESTIMATED if i % 2 else GOOD,
            source="ami:hes-a:b1",
        )
        for i in range(8)
    ]
    assert store.write(rows) == [NEW] * 8
    # when the head-end sends the batch again with the same numbers, all measured now
    measured = [replace(row, quality=GOOD, source="ami:hes-a:b2") for row in rows]
    outcomes = store.write(measured)
    # then exactly the four estimates become revision 2, good, and the measured ones are duplicates
    assert outcomes == [DUPLICATE, REVISED] * 4
    latest = list(store.latest(ReadingQuery(object_ids=["TP-1"])))
    assert [(r.revision, r.quality) for r in latest] == [(1, GOOD), (2, GOOD)] * 4
    assert store.totals(ReadingQuery(object_ids=["TP-1"])) == {"A+": Decimal(32)}  # counted once each
    # and the estimate is kept in the history, with its source
    key = SeriesKey("TP-1", "7", "A+")
    assert [
        (r.revision, r.quality, r.source) for r in store.history(key, "PT15M", start + timedelta(minutes=15))
    ] == [
        (1, ESTIMATED, "ami:hes-a:b1"),
        (2, GOOD, "ami:hes-a:b2"),
    ]
    # and a third delivery of either batch changes nothing
    assert store.write(measured) == [DUPLICATE] * 8
    assert store.write(rows) == [DUPLICATE] * 8
    assert Reading.objects.filter(object_id="TP-1").count() == 12


def test_an_estimate_and_its_measured_value_in_one_batch_are_taken_in_order(store):
    outcomes = store.write([make_row("5", quality=ESTIMATED), make_row("5", quality=GOOD, source="m2")])
    assert outcomes == [NEW, REVISED]
    assert [r.quality for r in store.history(MASS, "P1D", DAY)] == [ESTIMATED, GOOD]


def test_revisions_keep_history_in_order_and_latest_is_the_newest(store):
    # given three different values and a repeat of the last, sent one after another
    for value, source in [("1.5", "m1"), ("2.5", "m2"), ("3.5", "m3"), ("3.5", "m4")]:
        store.write([make_row(value, source=source)])
    # then history lists each distinct value once, oldest first
    history = store.history(MASS, "P1D", DAY)
    assert [(r.revision, r.value, r.source) for r in history] == [
        (1, Decimal("1.5"), "m1"),
        (2, Decimal("2.5"), "m2"),
        (3, Decimal("3.5"), "m3"),
    ]
    assert all(r.recorded_at is not None for r in history)
    # and latest gives only revision 3
    latest = list(store.latest(ReadingQuery(object_ids=["407001"])))
    assert [(r.revision, r.value) for r in latest] == [(3, Decimal("3.5"))]
    assert store.count(ReadingQuery(object_ids=["407001"])) == 1


def test_going_back_to_an_earlier_value_is_a_revision(store):
    # given revisions 1.5 then 2.5, when 1.5 comes again
    store.write([make_row("1.5"), make_row("2.5")])
    outcomes = store.write([make_row("1.5", source="m3")])
    # then it is compared with the newest revision only
    assert outcomes == [REVISED]
    assert [r.value for r in store.history(MASS, "P1D", DAY)] == [
        Decimal("1.5"),
        Decimal("2.5"),
        Decimal("1.5"),
    ]


def test_one_batch_with_repeats_of_a_key_is_taken_in_order(store):
    # given one write holding the same key three times, and another key
    outcomes = store.write(
        [make_row("1"), make_row("1"), make_row("2"), make_row("7", quantity="volume", unit="m3")]
    )
    # then each row is compared with the rows before it
    assert outcomes == [NEW, DUPLICATE, REVISED, NEW]
    assert [r.revision for r in store.history(MASS, "P1D", DAY)] == [1, 2]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param("0.0001220703", "0.0001220703", id="tiny-mass"),
        pytest.param("132936.6", "132936.6", id="totaliser"),
        pytest.param("1E+9", "1000000000", id="a-billion"),
        pytest.param("999999999999999", "999999999999999", id="15-integer-digits"),
        pytest.param("0.000000000001", "1E-12", id="12-decimals"),
        pytest.param("-40.25", "-40.25", id="negative-temperature"),
        pytest.param("0.000", "0", id="zero"),
        pytest.param("123456789.012345", "123456789.012345", id="15-significant"),
    ],
)
def test_values_come_back_exactly(store, value, shown):
    # when a value is stored
    store.write([make_row(value)])
    # then latest and history give back the same number, without the column's padding zeros
    (row,) = store.latest(ReadingQuery())
    assert row.value == Decimal(value)
    assert str(row.value) == shown
    assert store.history(MASS, "P1D", DAY)[0].value == Decimal(value)
    # and writing it again is a duplicate
    assert store.write([make_row(value, source="again")]) == [DUPLICATE]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("0.0000000000001", id="13-decimals"),
        pytest.param("1234567890123456", id="16-integer-digits"),
        pytest.param("1.23456789012345678", id="18-significant"),
        pytest.param("NaN", id="nan"),
        pytest.param("Infinity", id="infinity"),
    ],
)
def test_values_that_would_be_rounded_are_refused_and_nothing_is_written(store, value):
    # given a batch with one good value and one that a backend would round
    rows = [make_row("1"), make_row(value, quantity="volume")]
    # when written, then the whole write is refused
    with pytest.raises(UnrepresentableValueError):
        store.write(rows)
    assert Reading.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"interval": "PT5M"}, "unknown interval", id="unknown-interval"),
        pytest.param({"period_start": datetime(2024, 1, 11)}, "naive", id="naive-time"),  # noqa: DTZ001
        pytest.param({"object_id": "x" * 65}, "object_id is longer", id="long-object-id"),
        pytest.param({"source": "s" * 101}, "source is longer", id="long-source"),
    ],
)
def test_malformed_rows_are_refused(store, changes, message):
    with pytest.raises(ValueError, match=message):
        store.write([make_row("1", **changes)])
    assert Reading.objects.count() == 0


def test_period_start_with_any_offset_is_the_same_key(store):
    # given a daily value sent with +06:00, when the same instant arrives written in UTC
    astana_plus_6 = DAY.astimezone(timezone(timedelta(hours=6)))
    store.write([make_row("5", period_start=astana_plus_6)])
    outcomes = store.write([make_row("5", period_start=DAY.astimezone(UTC))])
    # then it is the same key
    assert outcomes == [DUPLICATE]
    assert store.history(MASS, "P1D", astana_plus_6)[0].period_start == DAY


def test_empty_write_does_nothing(store):
    assert store.write([]) == []


def test_latest_filters_and_orders(store):
    # given two objects, two quantities, three days, two intervals, one commercial device
    rows = []
    for day in range(3):
        start = DAY + timedelta(days=day)
        rows += [
            make_row(str(day), object_id="B", period_start=start),
            make_row(str(day), object_id="A", period_start=start, commercial=True),
            make_row(str(day), object_id="A", quantity="volume", unit="m3", period_start=start),
            make_row(str(day), object_id="A", interval="PT2H", period_start=start + timedelta(hours=2)),
        ]
    store.write(rows)
    # when asking for object A, daily, the first two days
    query = ReadingQuery(object_ids=["A"], interval="P1D", start=DAY, end=DAY + timedelta(days=2))
    got = [(r.key.object_id, r.key.quantity, r.period_start) for r in store.latest(query)]
    # then rows come by key then time, the end excluded
    assert got == [
        ("A", "mass", DAY),
        ("A", "mass", DAY + timedelta(days=1)),
        ("A", "volume", DAY),
        ("A", "volume", DAY + timedelta(days=1)),
    ]
    assert store.count(query) == 4
    assert store.count(ReadingQuery(commercial=True)) == 3
    assert store.count(ReadingQuery(quantities=["volume"], device_ids=["1"])) == 3
    assert store.count(ReadingQuery()) == 12


def test_commercial_filter_looks_at_the_newest_revision_only(store):
    # given a value first stored as commercial, then revised from a non-commercial source
    store.write([make_row("1", commercial=True)])
    store.write([make_row("2", commercial=False)])
    # then it is not counted as commercial any more (ACC-06)
    assert store.count(ReadingQuery(commercial=True)) == 0
    assert [r.value for r in store.latest(ReadingQuery(commercial=False))] == [Decimal("2")]


def test_a_large_message_is_written_in_one_batch_quickly(store, django_assert_max_num_queries):
    # given a 5,000-record message: 5,000 devices × 5 quantities = 25,000 rows
    quantities = ["mass", "volume", "density", "temperature", "tankLevel"]
    rows = [
        make_row(f"{device}.{q}", object_id=f"{device:06d}", device_id="2", quantity=name, unit="u")
        for device in range(5000)
        for q, name in enumerate(quantities)
    ]
    # when written, twice (the second time as a re-sent message)
    started = time.perf_counter()
    first = store.write(rows)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    with django_assert_max_num_queries(40):
        second = store.write(rows)
    second_s = time.perf_counter() - started
    print(f"\n25,000 rows: first write {first_s:.2f} s, re-sent {second_s:.2f} s")  # noqa: T201
    # then everything is new once and duplicate the second time
    assert first == [NEW] * 25000
    assert second == [DUPLICATE] * 25000
    assert Reading.objects.count() == 25000


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_streamed_aggregate_is_planned_for_all_its_rows(store):
    """A server-side cursor is read to its end, so PostgreSQL plans it whole (conf._planned_whole).

    Planned for its first tenth (PostgreSQL's default), the streamed reads of 32,000 freshly loaded
    values took 30–65 s: a nested loop read the table once a row (benchmarks/sql_reads.py).
    """
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no server-side cursors: it plans every query whole")
    # given a freshly loaded table, not yet analysed (as after a day's first batches)
    rows = [
        make_row(f"{meter}.{quarter}", object_id=f"{meter % 20:06d}", device_id=str(meter), quantity=quantity,
                 interval="PT15M", period_start=DAY + timedelta(minutes=15 * quarter))
        for meter in range(200) for quantity in ("A+", "A-", "R+", "R-") for quarter in range(4)
    ]  # fmt: skip
    store.write(rows)
    # when the totals by quantity are streamed
    with CaptureQueriesContext(connection) as captured:
        totals = list(store.aggregate_iter(ReadingQuery(), bucket="P1D", group="quantity"))
    assert [row.count for row in totals] == [800] * 4
    (query,) = [query["sql"] for query in captured.captured_queries if "NOT EXISTS" in query["sql"]]
    # Django declares the cursor itself when it binds on the client; with server-side binding
    # (conf._prepared, the default) psycopg declares it, and Django shows the query it declared.
    declared = query if query.startswith("DECLARE ") else f"DECLARE probe NO SCROLL CURSOR FOR {query}"
    # then its cursor is planned as the whole query is
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + declared)
        as_cursor = [line for (line,) in cursor.fetchall()]
        cursor.execute("EXPLAIN " + declared.split(" FOR ", 1)[1])
        whole = [line for (line,) in cursor.fetchall()]
    assert as_cursor == whole
