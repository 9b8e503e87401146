"""The same readings-store contract on every backend: SQL, chDB and a ClickHouse server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from egsu.readings.backends.clickhouse import ClickHouseReadingsStore
from egsu.readings.claims import pack_columns
from egsu.readings.store import (
    Quality,
    ReadingColumns,
    ReadingQuery,
    SeriesKey,
    UnrepresentableValueError,
    WriteOutcome,
    WriteSummary,
    write_columns,
)
from tests.readings import store_backends
from tests.readings.factories import DAY, make_row

NEW, DUPLICATE, REVISED = WriteOutcome.NEW, WriteOutcome.DUPLICATE, WriteOutcome.REVISED
MASS = SeriesKey("407001", "1", "mass")
EVERYTHING = ReadingQuery()

any_store = store_backends.any_store
clickhouse_any = store_backends.clickhouse_any


@pytest.mark.parametrize(
    ("second", "unit", "expected"),
    [
        pytest.param("80.46875", "t", DUPLICATE, id="same-value"),
        pytest.param("80.468750000", "t", DUPLICATE, id="same-value-other-scale"),
        pytest.param("80.46876", "t", REVISED, id="other-value"),
        pytest.param("80.46875", "kg", REVISED, id="same-number-other-unit"),
    ],
)
def test_rewriting_a_key(any_store, second, unit, expected):
    # given a stored value, when the same key arrives again
    assert any_store.write([make_row("80.46875")]) == [NEW]
    outcomes = any_store.write([make_row(second, unit=unit, source="msg-2")])
    # then it is a duplicate (nothing written) or a new revision
    assert outcomes == [expected]
    assert len(any_store.history(MASS, "P1D", DAY)) == (1 if expected is DUPLICATE else 2)


def test_revisions_keep_history_and_latest_is_the_newest(any_store):
    # given three different values and a repeat of the last
    for value, source in [("1.5", "m1"), ("2.5", "m2"), ("3.5", "m3"), ("3.5", "m4")]:
        any_store.write([make_row(value, source=source)])
    # then history lists each distinct value once, oldest first, and latest gives revision 3
    assert [(r.revision, r.value, r.source) for r in any_store.history(MASS, "P1D", DAY)] == [
        (1, Decimal("1.5"), "m1"),
        (2, Decimal("2.5"), "m2"),
        (3, Decimal("3.5"), "m3"),
    ]
    latest = list(any_store.latest(ReadingQuery(object_ids=["407001"])))
    assert [(r.revision, r.value, r.period_start) for r in latest] == [(3, Decimal("3.5"), DAY)]
    assert latest[0].recorded_at is not None
    assert any_store.count(EVERYTHING) == 1


def test_one_batch_with_repeats_of_a_key_is_taken_in_order(any_store):
    outcomes = any_store.write(
        [make_row("1"), make_row("1"), make_row("2"), make_row("7", quantity="volume", unit="m3")]
    )
    assert outcomes == [NEW, DUPLICATE, REVISED, NEW]
    assert [r.revision for r in any_store.history(MASS, "P1D", DAY)] == [1, 2]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param("0.0001220703", "0.0001220703", id="tiny-mass"),
        pytest.param("1E+9", "1000000000", id="a-billion"),
        pytest.param("999999999999999", "999999999999999", id="15-integer-digits"),
        pytest.param("0.000000000001", "1E-12", id="12-decimals"),
        pytest.param("-40.25", "-40.25", id="negative-temperature"),
        pytest.param("123456789.012345", "123456789.012345", id="15-significant"),
    ],
)
def test_values_come_back_exactly(any_store, value, shown):
    any_store.write([make_row(value)])
    (row,) = any_store.latest(EVERYTHING)
    assert str(row.value) == shown
    assert any_store.write([make_row(value, source="again")]) == [DUPLICATE]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        pytest.param("0.0000000000001", UnrepresentableValueError, id="13-decimals"),
        pytest.param("NaN", UnrepresentableValueError, id="nan"),
    ],
)
def test_a_refused_row_refuses_the_whole_write(any_store, value, error):
    with pytest.raises(error):
        any_store.write([make_row("1"), make_row(value, quantity="volume")])
    assert any_store.count(EVERYTHING) == 0


def test_latest_filters_and_orders(any_store):
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
    any_store.write(rows)
    query = ReadingQuery(object_ids=["A"], interval="P1D", start=DAY, end=DAY + timedelta(days=2))
    got = [(r.key.object_id, r.key.quantity, r.period_start) for r in any_store.latest(query)]
    assert got == [
        ("A", "mass", DAY),
        ("A", "mass", DAY + timedelta(days=1)),
        ("A", "volume", DAY),
        ("A", "volume", DAY + timedelta(days=1)),
    ]
    assert any_store.count(query) == 4
    assert any_store.count(ReadingQuery(commercial=True)) == 3
    assert any_store.count(ReadingQuery(quantities=["volume"], device_ids=["1"])) == 3
    assert any_store.count(ReadingQuery(object_ids=[])) == 0
    assert any_store.count(EVERYTHING) == 12


def test_commercial_filter_looks_at_the_newest_revision_only(any_store):
    # given a value first stored as commercial, then revised from a non-commercial source (ACC-06)
    any_store.write([make_row("1", commercial=True)])
    any_store.write([make_row("2", commercial=False)])
    assert any_store.count(ReadingQuery(commercial=True)) == 0
    assert [r.value for r in any_store.latest(ReadingQuery(commercial=False))] == [Decimal("2")]


def test_a_replayed_batch_changes_nothing(any_store):
    # given a batch of 15-minute values, one revised later
    start = datetime(2024, 2, 29, 17, 0, tzinfo=UTC)
    rows = [
        make_row(
            f"{i}.25", object_id=f"M{i % 7}", interval="PT15M", period_start=start + timedelta(minutes=15 * i)
        )
        for i in range(40)
    ]
    any_store.write(rows)
    any_store.write([make_row("99", object_id="M0", interval="PT15M", period_start=start)])
    before = (list(any_store.latest(EVERYTHING)), any_store.totals(EVERYTHING))
    # when the first batch is replayed (a retry after a lost acknowledgement)
    outcomes = any_store.write(rows)
    # then only the revised value differs from what is stored: it becomes the next revision
    assert outcomes.count(DUPLICATE) == 39
    assert outcomes[0] == REVISED
    # and a second replay of the same batch is all duplicate
    assert any_store.write(rows) == [DUPLICATE] * 40
    assert any_store.count(EVERYTHING) == 40
    assert len(before[0]) == 40


def test_a_measured_value_replaces_its_estimate_on_every_backend(any_store):
    """AMI-16: same number, quality estimated → good is a new revision; good → estimated is not."""
    estimated, good = Quality.ESTIMATED.value, Quality.GOOD.value
    other = make_row("3", quantity="volume", unit="m3", quality=good)
    assert any_store.write([make_row("5", quality=estimated), other]) == [NEW, NEW]
    # the measured value of the estimate, and an estimate of the measured one, arrive
    outcomes = any_store.write(
        [
            make_row("5", quality=good, source="m2"),
            make_row("3", quantity="volume", unit="m3", quality=estimated),
        ]
    )
    assert outcomes == [REVISED, DUPLICATE]
    assert [(r.key.quantity, r.revision, r.quality) for r in any_store.latest(EVERYTHING)] == [
        ("mass", 2, good),
        ("volume", 1, good),
    ]
    assert [r.quality for r in any_store.history(MASS, "P1D", DAY)] == [estimated, good]
    assert any_store.write([make_row("5", quality=good, source="m3")]) == [DUPLICATE]


def test_write_many_streams_batches_and_counts_outcomes(any_store):
    rows = [make_row(str(i), object_id=f"O{i}") for i in range(25)]
    assert any_store.write_many(iter(rows), batch_size=10) == WriteSummary(new=25)
    rows[4] = make_row("44", object_id="O4")
    assert any_store.write_many(rows, batch_size=7) == WriteSummary(duplicate=24, revised=1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"period_start": DAY.replace(microsecond=5)}, "whole second", id="sub-second"),
        pytest.param({"period_start": datetime(1969, 12, 31, tzinfo=UTC)}, "outside 1970", id="before-1970"),
        pytest.param({"interval": "PT5M"}, "unknown interval", id="unknown-interval"),
        pytest.param({"object_id": "x" * 65}, "object_id is longer", id="long-object-id"),
    ],
)
def test_clickhouse_refuses_rows_its_columns_cannot_hold(clickhouse_any, changes, message):
    with pytest.raises(ValueError, match=message):
        clickhouse_any.write([make_row("1", **changes)])
    assert clickhouse_any.count(EVERYTHING) == 0


def test_text_with_quotes_and_tabs_survives(clickhouse_any):
    # given ids and a source with characters that SQL literals and TSV must escape
    row = make_row("1", object_id="o'1\\", device_id="d\t2", source="msg\n3")
    assert clickhouse_any.write([row]) == [NEW]
    (stored,) = clickhouse_any.latest(ReadingQuery(object_ids=["o'1\\"]))
    assert (stored.key, stored.source) == (row.key, "msg\n3")
    assert clickhouse_any.write([row]) == [DUPLICATE]


def test_schema_creation_is_idempotent(clickhouse_any: ClickHouseReadingsStore):
    clickhouse_any.write([make_row("1")])
    clickhouse_any.create_schema()
    assert clickhouse_any.count(EVERYTHING) == 1


def test_the_series_number_is_the_engines_hash_of_the_series_key(clickhouse_any):
    # given two series of one object and two intervals of one series
    clickhouse_any.write(
        [
            make_row("1", device_id="1"),
            make_row("2", device_id="2"),
            make_row("3", device_id="1", interval="PT1H", period_start=DAY + timedelta(hours=1)),
        ]
    )
    # then `series` is filled at insert, one number per (object, device, quantity) whatever the interval
    rows = clickhouse_any.connection.query(
        f"SELECT device_id, duration, series = cityHash64(object_id, device_id, quantity)"
        f" FROM {clickhouse_any.table} ORDER BY device_id, duration"
    )
    assert [(device, interval, int(same)) for device, interval, same in rows] == [
        ("1", "P1D", 1),
        ("1", "PT1H", 1),
        ("2", "P1D", 1),
    ]
    ((distinct,),) = clickhouse_any.connection.query(f"SELECT uniqExact(series) FROM {clickhouse_any.table}")
    assert int(distinct) == 2


def test_aggregating_by_series_merges_the_intervals_of_one_series(clickhouse_any):
    # given one series with a daily and an hourly value on the same Astana day
    clickhouse_any.write(
        [
            make_row("1.5", interval="P1D"),
            make_row("2.25", interval="PT1H", period_start=DAY + timedelta(hours=1)),
        ]
    )
    # when aggregated per series and day (no interval filter)
    (row,) = clickhouse_any.aggregate(EVERYTHING, bucket="P1D", group="series")
    # then one row carries the series' text key and both values
    assert (row.object_id, row.device_id, row.quantity) == ("407001", "1", "mass")
    assert (row.sum, row.count, row.first, row.last) == (Decimal("3.75"), 2, Decimal("1.5"), Decimal("2.25"))


def test_values_claimed_while_clickhouse_is_unreachable_are_inserted_once_it_is_back():
    """ADR 0013 after an outage: a write whose insert fails leaves its values claimed in an intent; a
    recovery that fails too (ClickHouse still away) gives the intent back, so that a later recovery in
    the same process — or the periodic job readings.recover-claims — inserts them, once."""
    from egsu.readings.backends.clickhouse import DriverConnection
    from egsu.readings.store import ReadingQuery, StoreUnavailableError, WriteOutcome

    up = store_backends.clickhouse_store("clickhouse")  # a real server …
    try:
        # … and the same database and claims through a port nobody listens on (ClickHouse is down)
        down = ClickHouseReadingsStore(
            DriverConnection("127.0.0.1", store_backends.free_port_block(1)), database=up.database,
            claims=up.claims, create_schema=False,
        )  # fmt: skip
        rows = [make_row(Decimal(n + 1), period_start=DAY + timedelta(days=n)) for n in range(4)]
        with pytest.raises(StoreUnavailableError):
            down.write(rows)
        assert up.claims.pending() == 1
        # a recovery while it is still down fails, and leaves the intent for the next one
        down.recover_every_s = 0
        with pytest.raises(StoreUnavailableError):
            down.recover()
        with pytest.raises(StoreUnavailableError):
            down.recover()  # taken again: it was given back
        # the same values sent again are already claimed: not stored twice
        assert up.count(ReadingQuery()) == 0
        # once ClickHouse answers, recovery (here in the same process) inserts them
        assert up.recover() == 4
        assert up.claims.pending() == 0
        assert up.write(rows) == [WriteOutcome.DUPLICATE] * 4
        assert up.count(ReadingQuery()) == 4 and up.recover() == 0
    finally:
        store_backends.drop_database(up)


def test_values_written_as_columns_are_answered_and_stored_as_rows_are(any_store):
    """write_columns (the AMI intake's bulk form, issue 13) keeps write()'s contract on every backend:
    NEW/DUPLICATE/REVISED in order, repeats of a key in one batch in turn, AMI-16's estimate rule."""
    estimated = Quality.ESTIMATED.value
    if isinstance(any_store, ClickHouseReadingsStore):
        any_store.claim_chunk_size = 2  # a large batch is claimed in chunks: repeats across them too
    first = [make_row("1.50", object_id=f"O{i}", commercial=i == 2) for i in range(4)]
    assert write_columns(any_store, ReadingColumns.of_rows(first)) == [NEW] * 4
    again = [
        make_row("1.5", object_id="O0", source="m2"),  # the same number: duplicate
        make_row("2", object_id="O1", source="m2"),  # changed: revised
        make_row("3", object_id="O1", source="m2"),  # and again in the same batch
        make_row("1.5", object_id="O3", quality=estimated, source="m2"),  # an estimate of a measured value
        make_row("7", object_id="O9", source="m2"),  # new
    ]
    assert write_columns(any_store, ReadingColumns.of_rows(again)) == [
        DUPLICATE,
        REVISED,
        REVISED,
        DUPLICATE,
        NEW,
    ]
    assert write_columns(any_store, ReadingColumns.of_rows(again)) == [
        DUPLICATE,
        REVISED,
        REVISED,
        DUPLICATE,
        DUPLICATE,
    ]
    assert write_columns(any_store, ReadingColumns(source="empty")) == []
    latest = {
        r.key.object_id: (r.value, r.revision, r.source, r.commercial) for r in any_store.latest(EVERYTHING)
    }
    assert latest == {
        "O0": (Decimal("1.5"), 1, "msg-1", False),
        "O1": (Decimal("3"), 5, "m2", False),
        "O2": (Decimal("1.5"), 1, "msg-1", True),
        "O3": (Decimal("1.5"), 1, "msg-1", False),
        "O9": (Decimal("7"), 1, "m2", False),
    }
    with pytest.raises(UnrepresentableValueError):
        write_columns(any_store, ReadingColumns.of_rows([make_row("0.0000000000001", object_id="O5")]))
    assert any_store.count(EVERYTHING) == 5


def test_a_columnar_intent_left_behind_is_recovered(clickhouse_any):
    """ADR 0013: an intent whose insert never happened (the writer died or failed) is inserted by
    recover(); a claim and its intent written in the columnar form as write_columns leaves them."""
    store = clickhouse_any
    rows = [make_row(f"{i}.10", object_id=f"R{i}", interval="PT15M", commercial=i % 2 == 0) for i in range(3)]
    start = int(DAY.timestamp())
    entries = [("R0", "1", "mass", "PT15M", start, "0.1", "t", "good")]

    def intent_of(revisions):
        columns = [["R0"], ["1"], ["mass"], ["PT15M"], [start], revisions, ["0.1"], ["t"], ["good"], [1]]
        return pack_columns(columns, "lost-batch", start)

    revisions, intent_id = store.claims.claim(entries, intent_of)
    assert revisions == [1]
    store.claims.failed_all([intent_id])  # the writer's insert raised
    assert store.count(EVERYTHING) == 0
    assert store.recover() == 1
    assert store.claims.pending() == 0
    (row,) = store.latest(EVERYTHING)
    assert (row.key.object_id, row.value, row.revision, row.source, row.commercial) == (
        "R0", Decimal("0.1"), 1, "lost-batch", True,
    )  # fmt: skip
    # and the claim stands: the same value again is a duplicate, the other rows are new
    assert write_columns(store, ReadingColumns.of_rows(rows)) == [DUPLICATE, NEW, NEW]
