"""The read paths every page, chart, export and API answer uses, on every backend, against brute force.

rows() pages and streams, newest() per series, metering-point sets (`series`), keyset paging
of aggregates (`after_series`), aggregate_iter() and aggregate_chunks() (streamed answers). The data crosses 29 February 2024, the
25-hour Astana day (INT-37), and 5 % of it was revised, some revisions flipping the
commercial flag (ACC-06): a revised value must count once, as its newest revision.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egsu.readings.store import (
    BUCKETS,
    ReadingQuery,
    SeriesKey,
    aggregate_tuple,
    decimal_text,
    row_order_key,
    series_of,
)
from tests.readings import store_backends
from tests.readings.factories import make_row
from tests.readings.test_aggregate import FIRST, LABELS, REVISIONS, START, as_tuples, brute_force

any_store = store_backends.any_store
clickhouse_any = store_backends.clickhouse_any

CLOCK_CHANGE_DAY = (datetime(2024, 2, 28, 18, tzinfo=UTC), datetime(2024, 2, 29, 19, tzinfo=UTC))  # 25 h


def _newest_rows() -> dict[tuple, tuple]:
    """Every stored value's newest revision as (order key by series) → comparable tuple."""
    newest: dict[tuple, tuple] = {}
    for revision, rows in ((1, FIRST), (2, REVISIONS)):
        for row in rows:
            key = (row.key.object_id, row.key.device_id, row.key.quantity, row.interval, row.period_start)
            newest[key] = (*key, row.value, row.unit, row.source, row.commercial, revision)
    return newest


NEWEST_ROWS = _newest_rows()


def shown(rows) -> list[tuple]:
    return [
        (r.key.object_id, r.key.device_id, r.key.quantity, r.interval, r.period_start, r.value, r.unit,
         r.source, r.commercial, r.revision)
        for r in rows
    ]  # fmt: skip


def expected_rows(keep=lambda row: True, order: str = "series") -> list[tuple]:
    rows = [row for row in NEWEST_ROWS.values() if keep(row)]
    if order == "time":
        return sorted(rows, key=lambda r: (r[4], *r[:4]))
    return sorted(rows, key=lambda r: r[:5])


def order_key(row: tuple, order: str) -> tuple:
    return row[:5] if order == "series" else (row[4], *row[:4])


@pytest.fixture
def loaded(any_store):
    any_store.write(FIRST)
    any_store.write(REVISIONS)
    return any_store


SOME_SERIES = [("A1", "2"), ("C3", "1"), ("C3", "2"), ("Z9", "1")]  # Z9: a point with no values yet

QUERIES = [
    pytest.param(ReadingQuery(), lambda r: True, id="everything"),
    pytest.param(ReadingQuery(commercial=True), lambda r: r[8], id="commercial-newest-revision"),
    pytest.param(ReadingQuery(commercial=False), lambda r: not r[8], id="non-commercial"),
    pytest.param(ReadingQuery(series=series_of(SOME_SERIES)), lambda r: r[:2] in SOME_SERIES, id="series"),
    pytest.param(
        ReadingQuery(series=series_of(SOME_SERIES), quantities=["heat"], commercial=True),
        lambda r: r[:2] in SOME_SERIES and r[2] == "heat" and r[8],
        id="series-quantity-commercial",
    ),
    pytest.param(
        ReadingQuery(start=CLOCK_CHANGE_DAY[0], end=CLOCK_CHANGE_DAY[1], object_ids=["B2"]),
        lambda r: CLOCK_CHANGE_DAY[0] <= r[4] < CLOCK_CHANGE_DAY[1] and r[0] == "B2",
        id="29-february-astana",
    ),
    pytest.param(ReadingQuery(after_series=("A1", "2")), lambda r: r[:2] > ("A1", "2"), id="after-series"),
    pytest.param(ReadingQuery(after_series=("B2", None)), lambda r: r[0] > "B2", id="after-object"),
    pytest.param(ReadingQuery(series=series_of([])), lambda r: False, id="no-series"),
]


@pytest.mark.parametrize(("query", "keep"), QUERIES)
@pytest.mark.parametrize("order", ["series", "time"])
def test_rows_are_the_newest_revisions_in_order(loaded, query, keep, order):
    # given values with revisions, when streamed in either order
    got = shown(loaded.rows(query, order=order))
    # then each value appears once, as its newest revision, in the order's key
    assert got == expected_rows(keep, order)
    assert loaded.count(query) == len(got)
    if order == "series":
        assert shown(loaded.latest(query)) == got


@pytest.mark.parametrize("order", ["series", "time"])
def test_keyset_pages_visit_every_row_once_in_order(loaded, order):
    # given a filter across the clock change, paged 997 rows at a time by the last row's key
    query = ReadingQuery(series=series_of(SOME_SERIES + [("B2", "1")]), end=datetime(2024, 3, 2, tzinfo=UTC))
    pages, after = [], None
    while True:
        page = list(loaded.rows(query, order=order, after=after, limit=997))
        if not page:
            break
        pages.append(shown(page))
        after = row_order_key(page[-1], order)
    # then the pages join up to the whole answer, and numbered pages (offset) give the same
    keep = lambda r: r[:2] in SOME_SERIES + [("B2", "1")] and r[4] < datetime(2024, 3, 2, tzinfo=UTC)  # noqa: E731
    expected = expected_rows(keep, order)
    assert [row for page in pages for row in page] == expected
    assert len(pages) == -(-len(expected) // 997)
    assert shown(loaded.rows(query, order=order, offset=997, limit=997)) == pages[1]
    assert shown(loaded.rows(query, order=order, offset=len(expected) - 3)) == expected[-3:]
    assert list(loaded.rows(query, order=order, limit=0)) == []


def test_keyset_paging_holds_for_any_page_size_filter_and_order(loaded):
    """Any page size, order, commercial filter and set of points: the pages join up exactly."""

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        order=st.sampled_from(["series", "time"]),
        size=st.integers(min_value=150, max_value=5000),
        commercial=st.sampled_from([None, True, False]),
        points=st.sets(st.sampled_from(sorted({k[:2] for k in NEWEST_ROWS})), min_size=1),
        first_quarter=st.integers(min_value=0, max_value=500),
    )
    def pages_join_up(order, size, commercial, points, first_quarter):
        start = START + timedelta(minutes=15 * first_quarter)
        query = ReadingQuery(series=series_of(points), commercial=commercial, start=start)
        got, after = [], None
        while page := list(loaded.rows(query, order=order, after=after, limit=size)):
            got += shown(page)
            after = row_order_key(page[-1], order)
            assert len(page) <= size
        keep = lambda r: r[:2] in points and r[4] >= start and commercial in (None, r[8])  # noqa: E731
        assert got == expected_rows(keep, order)

    pages_join_up()


def test_newest_is_the_last_value_of_each_series_as_revised(loaded):
    # given the last value of one series revised twice (newest revision 3) and one series revised
    # away from commercial at its last value (ACC-06)
    last = max(k[4] for k in NEWEST_ROWS if k[:4] == ("A1", "1", "heat", "PT15M"))
    revise = dict(object_id="A1", device_id="1", quantity="heat", unit="Gcal", interval="PT15M")
    loaded.write([make_row("11.5", period_start=last, commercial=True, **revise)])
    loaded.write([make_row("12.5", period_start=last, source="act-9", commercial=True, **revise)])
    last_b = max(k[4] for k in NEWEST_ROWS if k[:4] == ("B2", "1", "energyActiveImport", "PT15M"))
    flipped = dict(object_id="B2", device_id="1", quantity="energyActiveImport", unit="kWh", interval="PT15M")
    loaded.write([make_row("3", period_start=last_b, commercial=False, source="act-10", **flipped)])
    # when the newest values of a page of points are asked for
    points = [("A1", "1"), ("B2", "1"), ("Z9", "9")]
    got = loaded.newest(ReadingQuery(series=series_of(points)))
    # then one row per (point, quantity, interval): its latest period, newest revision, with recorded_at
    assert [(r.key, r.interval, r.period_start, r.value, r.revision) for r in got] == [
        (SeriesKey("A1", "1", "energyActiveImport"), "PT15M", _last("A1", "1", "energyActiveImport"),
         NEWEST_ROWS[("A1", "1", "energyActiveImport", "PT15M", _last("A1", "1", "energyActiveImport"))][5],
         NEWEST_ROWS[("A1", "1", "energyActiveImport", "PT15M", _last("A1", "1", "energyActiveImport"))][9]),
        (SeriesKey("A1", "1", "heat"), "PT15M", last, Decimal("12.5"), NEWEST_ROWS[("A1", "1", "heat", "PT15M", last)][9] + 2),
        (SeriesKey("B2", "1", "energyActiveImport"), "PT15M", last_b, Decimal("3"), 3 if _revised(last_b) else 2),
        (SeriesKey("B2", "1", "heat"), "PT15M", _last("B2", "1", "heat"),
         NEWEST_ROWS[("B2", "1", "heat", "PT15M", _last("B2", "1", "heat"))][5],
         NEWEST_ROWS[("B2", "1", "heat", "PT15M", _last("B2", "1", "heat"))][9]),
    ]  # fmt: skip
    assert all(r.recorded_at is not None for r in got)
    # and with a commercial filter, B2's last commercial value is the one before the flipped one
    commercial = loaded.newest(ReadingQuery(series=series_of(points), commercial=True))
    by_key = {(r.key.object_id, r.key.quantity): r.period_start for r in commercial}
    expected_b = max(
        k[4]
        for k, row in NEWEST_ROWS.items()
        if k[:3] == ("B2", "1", "energyActiveImport") and row[8] and k[4] != last_b
    )
    assert by_key[("B2", "energyActiveImport")] == expected_b
    assert by_key[("A1", "heat")] == last


def _last(object_id: str, device_id: str, quantity: str) -> datetime:
    return max(k[4] for k in NEWEST_ROWS if k[:3] == (object_id, device_id, quantity))


def _revised(moment: datetime) -> bool:
    return NEWEST_ROWS[("B2", "1", "energyActiveImport", "PT15M", moment)][9] == 2


def test_newest_of_everything_within_a_range(loaded):
    # given a range that ends on the clock-change day, when the newest of every series is asked for
    query = ReadingQuery(end=CLOCK_CHANGE_DAY[1], commercial=False)
    got = {
        (r.key.object_id, r.key.device_id, r.key.quantity): (r.period_start, r.value)
        for r in loaded.newest(query)
    }
    # then each series' last non-commercial value before the end
    expected: dict[tuple, tuple] = {}
    for row in expected_rows(lambda r: r[4] < CLOCK_CHANGE_DAY[1] and not r[8]):
        expected[row[:3]] = (row[4], row[5])
    assert got == expected


@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize(
    "query",
    [
        pytest.param(ReadingQuery(), id="open"),
        pytest.param(ReadingQuery(start=CLOCK_CHANGE_DAY[0], end=CLOCK_CHANGE_DAY[1] + timedelta(days=1)), id="whole-days"),
        pytest.param(ReadingQuery(commercial=True, series=series_of(SOME_SERIES + [("A1", "1")])), id="commercial-series"),
    ],
)  # fmt: skip
def test_labels_group_series_and_leave_out_the_unlabelled(loaded, query, bucket):
    # given labels for four of the six series (B2/2 and C3/1 have none)
    got = loaded.aggregate(query, bucket=bucket, group="label", labels=LABELS)
    # then per (label, quantity) and bucket the brute-force figures of the labelled series only
    values = [(r[0], r[1], r[2], r[4], r[5]) for r in NEWEST_ROWS.values() if _matches(query, r)]
    assert as_tuples(got) == brute_force(values, bucket, "label")
    assert {r.label for r in got} <= {"north", "south", "east"}
    assert list(loaded.aggregate_iter(query, bucket=bucket, group="label", labels=LABELS)) == got


def _matches(query: ReadingQuery, row: tuple) -> bool:
    return (
        (query.start is None or row[4] >= query.start)
        and (query.end is None or row[4] < query.end)
        and (query.commercial is None or row[8] == query.commercial)
        and (query.series is None or row[:2] in query.series.pairs())
    )


def test_labels_for_no_series_give_nothing(any_store):
    any_store.write([make_row("1", object_id="A1")])
    assert any_store.aggregate(ReadingQuery(), bucket="P1D", group="label", labels={}) == []
    assert any_store.aggregate(ReadingQuery(), bucket="P1D", group="label", labels={("X", "1"): "x"}) == []


@pytest.mark.parametrize(("group", "width"), [("series", 2), ("object", 1)])
@pytest.mark.parametrize("bucket", ["PT1H", "P1D", "P1M"])
def test_aggregates_page_by_series_with_after_series(loaded, group, width, bucket):
    # given the whole answer, streamed
    whole = list(loaded.aggregate_iter(ReadingQuery(), bucket=bucket, group=group))
    assert whole == loaded.aggregate(ReadingQuery(), bucket=bucket, group=group)
    # when it is read in pages that end with a series (object) and resume after it
    pages, after, size = [], None, 3
    while True:
        page, stream = [], loaded.aggregate_iter(ReadingQuery(after_series=after), bucket=bucket, group=group)
        for row in stream:
            if (
                len(page) >= size
                and (row.object_id, row.device_id)[:width] != (page[-1].object_id, page[-1].device_id)[:width]
            ):
                break
            page.append(row)
        stream.close()
        if not page:
            break
        pages.append(page)
        last = page[-1]
        after = (last.object_id, last.device_id) if width == 2 else (last.object_id, None)
    # then the pages join up to the whole answer, each row once
    assert [row for page in pages for row in page] == whole
    assert len(pages) > 1


def test_a_hundred_thousand_points_restrict_every_read(any_store):
    # given values of three points, and a set of 100,000 points that holds two of them
    rows = [
        make_row(str(n), object_id=object_id, device_id=device_id, interval="PT15M", period_start=START + timedelta(minutes=15 * n))
        for object_id, device_id in (("S00001", "1"), ("S00002", "7"), ("S00003", "1"))
        for n in range(4)
    ]  # fmt: skip
    any_store.write(rows)
    points = [(f"S{n:05d}", "x") for n in range(100_000)]  # objects with values, but not these devices
    points += [("S00001", "1"), ("S00002", "7")]
    query = ReadingQuery(series=series_of(points))
    # then every read covers exactly the two points
    assert {(r.key.object_id, r.key.device_id) for r in any_store.rows(query)} == {
        ("S00001", "1"),
        ("S00002", "7"),
    }
    assert any_store.count(query) == 8
    assert [r.key.object_id for r in any_store.newest(query)] == ["S00001", "S00002"]
    labels = {pair: "region" for pair in points}
    (labelled,) = any_store.aggregate(query, bucket="P1M", group="label", labels=labels)
    assert (labelled.label, labelled.sum) == ("region", Decimal(12))


@pytest.mark.parametrize(
    ("order", "after", "message"),
    [
        pytest.param("value", None, "unknown order", id="unknown-order"),
        pytest.param("series", ("A1", "1", "heat", "PT15M"), "after must be the series key", id="short-key"),
        pytest.param("time", ("A1", "1", "heat", "PT15M", START), "after must be the time key", id="key-of-other-order"),
        pytest.param("series", ("A1", "1", "heat", "PT15M", START.replace(tzinfo=None)), "naive", id="naive"),
    ],
)  # fmt: skip
def test_a_malformed_page_is_refused_before_reading(any_store, order, after, message):
    with pytest.raises(ValueError, match=message):
        any_store.rows(ReadingQuery(), order=order, after=after)


def test_bad_offsets_and_cursors_are_refused(any_store):
    with pytest.raises(ValueError, match="offset"):
        any_store.rows(ReadingQuery(), offset=-1)
    with pytest.raises(ValueError, match="limit"):
        any_store.rows(ReadingQuery(), limit=-5)
    with pytest.raises(ValueError, match="after_series"):
        ReadingQuery(after_series=("A1",))
    with pytest.raises(ValueError, match="pair of strings"):
        series_of([("A1", 1)])


def test_a_stream_survives_other_reads_while_it_is_read(clickhouse_any):
    # given more rows than two blocks of a stream (DriverConnection.STREAM_SETTINGS), streamed in time order
    rows = [
        make_row(str(n), object_id=f"O{n % 50:02d}", interval="PT15M", period_start=START + timedelta(minutes=15 * (n // 50)))
        for n in range(40_000)
    ]  # fmt: skip
    clickhouse_any.write(rows)
    stream = clickhouse_any.rows(ReadingQuery(), order="time")
    got = []
    for n, row in enumerate(stream):
        got.append(row.value)
        if n in (10, 20_000):  # the caller reads the store in the middle of the stream
            assert clickhouse_any.count(ReadingQuery(object_ids=["O01"])) == 800
    # then the stream still delivers every row once, in order
    assert got == [Decimal(n) for n in range(40_000)]
    # and a stream left early frees the connection for the next read
    early = clickhouse_any.rows(ReadingQuery())
    next(early)
    early.close()
    assert clickhouse_any.count(ReadingQuery()) == 40_000


def test_chdb_streams_block_by_block_and_resumes_where_it_was_interrupted():
    # given chDB and an answer of three blocks
    pytest.importorskip("chdb", reason="chDB is not installed (pip install chdb)")
    connection = store_backends._chdb()
    sql = "SELECT number, toString(number) FROM numbers(40000) ORDER BY number"
    stream = connection.stream(sql, offset=5, limit=39_990)
    first = [next(stream) for _ in range(20_000)]
    # when another query runs on the session (which cancels chDB's open stream)
    assert connection.query("SELECT 42") == [(42,)]
    # then the stream resumes after the rows it delivered, and stops at the limit
    rest = list(stream)
    assert [int(row[0]) for row in first + rest] == list(range(5, 39_995))


def test_ids_with_quotes_tabs_and_set_names_survive_a_large_set(any_store):
    # given ids that SQL literals, TSV and set names must not disturb, and a set of 300 points with them
    odd = [("o'1\\", "d\t2"), ("_egsu_set_0", "x\ny"), ("Ω-7", "_egsu_set_1")]
    any_store.write([make_row(str(n + 1), object_id=o, device_id=d) for n, (o, d) in enumerate(odd)])
    points = odd + [(f"P{n}", "1") for n in range(300)]
    # when reads are restricted to them, and labelled by them
    query = ReadingQuery(series=series_of(points))
    labels = {pair: f"{pair[0]}'\t{pair[1]}" for pair in points}
    # then every id comes back exactly
    assert sorted((r.key.object_id, r.key.device_id) for r in any_store.rows(query)) == sorted(odd)
    got = any_store.aggregate(query, bucket="P1D", group="label", labels=labels)
    assert sorted((r.label, r.sum) for r in got) == sorted(
        (labels[pair], Decimal(n + 1)) for n, pair in enumerate(odd)
    )


CHUNK_QUERIES = [
    pytest.param(ReadingQuery(), id="everything"),
    pytest.param(ReadingQuery(commercial=True), id="commercial"),
    pytest.param(ReadingQuery(series=series_of(SOME_SERIES + [("A1", "1"), ("B2", "2")])), id="series"),
    pytest.param(ReadingQuery(start=CLOCK_CHANGE_DAY[0], end=CLOCK_CHANGE_DAY[1] + timedelta(days=1)),
                 id="whole-days"),
    pytest.param(ReadingQuery(after_series=("A1", "2"), object_ids=["A1", "B2", "C3"]), id="after-objects"),
]  # fmt: skip


@pytest.mark.parametrize("group", ["series", "object", "quantity", "all", "label"])
@pytest.mark.parametrize("bucket", ["PT15M", "P1M"])  # from the rows; from the daily rollup (whole days)
@pytest.mark.parametrize("query", CHUNK_QUERIES)
def test_aggregate_chunks_are_the_aggregate_as_plain_tuples(loaded, query, bucket, group):
    # given the aggregate of a query, and ClickHouse asked two series (points) per engine query
    labels = LABELS if group == "label" else None
    expected = [
        aggregate_tuple(row) for row in loaded.aggregate(query, bucket=bucket, group=group, labels=labels)
    ]
    if hasattr(loaded, "stream_slice_series"):
        loaded.stream_slice_series = 2
    # when it is streamed in chunks of three rows
    chunks = list(loaded.aggregate_chunks(query, bucket=bucket, group=group, labels=labels, chunk_rows=3))
    # then the chunks join up to the same rows in the same order, as plain tuples, none empty or larger
    assert [row for chunk in chunks for row in chunk] == expected
    assert all(1 <= len(chunk) <= 3 for chunk in chunks)
    assert all(isinstance(row[5], str) and isinstance(row[8], int) for chunk in chunks for row in chunk)
    # and only sums when only sums are asked for
    sums = [row for chunk in loaded.aggregate_chunks(query, bucket=bucket, group=group, labels=labels,
                                                     measures="sums") for row in chunk]  # fmt: skip
    assert sums == [(*row[:6], None, None, row[8], None, None) for row in expected]


def test_aggregate_chunks_write_figures_as_plain_decimals(any_store):
    # given values whose sums need no exponent, padding or rounding to be read back
    values = ["0.000000000001", "-12.5", "100", "123456789012345", "0.1"]
    any_store.write([make_row(v, object_id="A1", device_id=str(n)) for n, v in enumerate(values)])
    # when the per-point figures are streamed
    (chunk,) = any_store.aggregate_chunks(ReadingQuery(), bucket="PT15M", group="series")
    # then each figure is its plain decimal text, whatever the engine's column padding
    assert [row[5] for row in chunk] == values
    assert [decimal_text(Decimal(v)) for v in values] == values


def test_aggregate_chunks_refuse_a_malformed_question_before_reading(any_store):
    with pytest.raises(ValueError, match="chunk_rows"):
        any_store.aggregate_chunks(ReadingQuery(), bucket="P1D", group="series", chunk_rows=0)
    with pytest.raises(ValueError, match="bucket"):
        any_store.aggregate_chunks(ReadingQuery(), bucket="P2D", group="series")


def test_aggregate_chunks_closed_early_stop_reading(loaded):
    # given a per-point stream of many chunks, read one chunk of
    if hasattr(loaded, "stream_slice_series"):
        loaded.stream_slice_series = 2
    stream = loaded.aggregate_chunks(ReadingQuery(), bucket="PT1H", group="series", chunk_rows=2)
    first = next(stream)
    # when the reader stops, then the stream closes, and the store answers the next question
    stream.close()
    assert first == [aggregate_tuple(row) for row in loaded.aggregate(ReadingQuery(), bucket="PT1H",
                                                                       group="series")[:2]]  # fmt: skip
    assert loaded.count(ReadingQuery()) == len(NEWEST_ROWS)
