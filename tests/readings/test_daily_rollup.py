"""The ClickHouse daily rollup: days and months from mergeable states, exact with revisions (issue 7)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egsu.readings.backends.clickhouse import ClickHouseReadingsStore, ValueSets, _number
from egsu.readings.store import GROUPS, ReadingQuery, tidy_value
from tests.readings import store_backends
from tests.readings.factories import DAY, make_row
from tests.readings.test_aggregate import FIRST, NEWEST, REVISIONS, as_tuples, brute_force, labels_for

clickhouse_any = store_backends.clickhouse_any

DAILY_BUCKETS = ("P1D", "P1M")
WHOLE_DAYS = ReadingQuery(
    start=datetime(2024, 2, 27, 18, tzinfo=UTC), end=datetime(2024, 3, 1, 19, tzinfo=UTC)
)


@pytest.fixture
def loaded(clickhouse_any):
    clickhouse_any.write(FIRST)
    clickhouse_any.write(REVISIONS)
    return clickhouse_any


def _spy_rollup(store: ClickHouseReadingsStore, monkeypatch) -> list[bool]:
    """Record whether each aggregate was answered from the rollup (True) or fell back to the rows."""
    used: list[bool] = []
    original = store._daily_aggregate_sql

    def spy(*args, **kwargs):
        answer = original(*args, **kwargs)
        used.append(answer is not None)
        return answer

    monkeypatch.setattr(store, "_daily_aggregate_sql", spy)
    return used


def _rows_only(store: ClickHouseReadingsStore) -> ClickHouseReadingsStore:
    """The same database read without the rollup (any revised day makes it fall back to the rows)."""
    return ClickHouseReadingsStore(
        store.connection,
        database=store.database,
        layout=store.layout,
        revised_day_limit=-1,
        create_schema=False,
    )


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("bucket", DAILY_BUCKETS)
@pytest.mark.parametrize(
    "query",
    [
        pytest.param(ReadingQuery(), id="open"),
        pytest.param(WHOLE_DAYS, id="whole-days"),
        pytest.param(ReadingQuery(commercial=True), id="commercial"),
        pytest.param(ReadingQuery(commercial=False, object_ids=["A1", "C3"]), id="non-commercial-objects"),
    ],
)
def test_the_rollup_answers_exactly_what_the_rows_answer(loaded, monkeypatch, query, bucket, group):
    # given values of which 5 % were revised (some revisions flip the commercial flag)
    used = _spy_rollup(loaded, monkeypatch)
    # when days or months over whole Astana days are aggregated
    labels = labels_for(group)
    got = loaded.aggregate(query, bucket=bucket, group=group, labels=labels)
    # then the rollup answered, and exactly as a scan of the newest rows does
    assert used == [True]
    assert got == _rows_only(loaded).aggregate(query, bucket=bucket, group=group, labels=labels)
    assert got  # the comparison is not between two empty answers


def test_revised_days_are_recomputed_from_the_newest_rows(loaded):
    # given one series-day of the rollup whose values were all revised later (top revision 2)
    key = FIRST[0]
    day = [r for r in FIRST if r.key == key.key and r.period_start < key.period_start + timedelta(hours=5)]
    loaded.write([make_row(r.value + 1000, object_id=r.key.object_id, device_id=r.key.device_id,
                           quantity=r.key.quantity, unit=r.unit, interval=r.interval, period_start=r.period_start,
                           commercial=r.commercial) for r in day])  # fmt: skip
    # when its day is read per series
    query = ReadingQuery(
        object_ids=[key.key.object_id], device_ids=[key.key.device_id], quantities=[key.key.quantity]
    )
    rows = loaded.aggregate(query, bucket="P1D", group="series")
    # then those values count as revised (their first value +1000), not as every revision ever stored
    expected = {}
    for (object_id, device_id, quantity, moment), (value, _c) in NEWEST.items():
        if (object_id, device_id, quantity) == (key.key.object_id, key.key.device_id, key.key.quantity):
            expected[moment] = value
    expected.update({r.period_start: r.value + 1000 for r in day})
    values = [(key.key.object_id, key.key.device_id, key.key.quantity, m, v) for m, v in expected.items()]
    assert as_tuples(rows) == brute_force(values, "P1D", "series")


def test_part_days_and_quarter_hours_are_read_from_the_rows(loaded, monkeypatch):
    # given a range that starts in the middle of an Astana day
    used = _spy_rollup(loaded, monkeypatch)
    start = datetime(2024, 2, 28, 23, 45, tzinfo=UTC)
    query = ReadingQuery(start=start)
    # when days and quarter hours are asked for, then the rollup is not consulted
    got = loaded.aggregate(query, bucket="P1D", group="quantity")
    loaded.aggregate(query, bucket="PT15M", group="all")
    assert used == []
    # and the part day holds only the values from `start` on
    values = [(*key, value) for key, (value, _c) in NEWEST.items() if key[3] >= start]
    assert as_tuples(got) == brute_force(values, "P1D", "quantity")


def test_too_many_revised_days_fall_back_to_the_rows(loaded, monkeypatch):
    store = ClickHouseReadingsStore(
        loaded.connection,
        database=loaded.database,
        layout=loaded.layout,
        revised_day_limit=0,
        create_schema=False,
    )
    used = _spy_rollup(store, monkeypatch)
    got = store.aggregate(ReadingQuery(), bucket="P1M", group="object")
    assert used == [False]
    values = [(*key, value) for key, (value, _c) in NEWEST.items()]
    assert as_tuples(got) == brute_force(values, "P1M", "object")


def test_a_database_from_before_the_rollup_gets_it_filled(clickhouse_any):
    # given rows stored in a database made before the rollup existed (drop it to make one)
    clickhouse_any.write(FIRST)
    clickhouse_any.write(REVISIONS)
    layout, database = clickhouse_any.layout, clickhouse_any.database
    clickhouse_any.connection.command(f"DROP TABLE {database}.{layout.daily_view}")
    clickhouse_any.connection.command(f"DROP TABLE {database}.{layout.daily_table}")
    # when the store opens it again
    reopened = ClickHouseReadingsStore(clickhouse_any.connection, database=database, layout=layout)
    # then the rollup holds every stored row once, and answers like the rows
    ((count,),) = reopened.connection.query(
        f"SELECT countMerge(s_count) FROM {database}.{layout.daily_table}"
    )
    assert int(count) == len(FIRST) + len(REVISIONS)
    for bucket in DAILY_BUCKETS:
        assert reopened.aggregate(ReadingQuery(), bucket=bucket, group="object") == _rows_only(
            reopened
        ).aggregate(ReadingQuery(), bucket=bucket, group="object")
    # and a second opening fills nothing again
    ClickHouseReadingsStore(clickhouse_any.connection, database=database, layout=layout)
    ((again,),) = reopened.connection.query(
        f"SELECT countMerge(s_count) FROM {database}.{layout.daily_table}"
    )
    assert again == count


def test_a_region_of_many_meters_travels_as_data_not_sql(clickhouse_any):
    # given 600 meters (more than ValueSets.SMALLEST), one value each per quarter hour of a day
    start = datetime(2024, 6, 1, tzinfo=UTC) - timedelta(hours=5)  # Astana midnight (UTC+5)
    rows = [
        make_row(Decimal(meter % 7), object_id=f"M{meter:04d}", device_id="1", quantity="energyActiveImport",
                 unit="kWh", interval="PT15M", period_start=start + timedelta(minutes=15 * q))
        for meter in range(600) for q in range(4)
    ]  # fmt: skip
    clickhouse_any.write(rows)
    region = [f"M{meter:04d}" for meter in range(0, 600, 2)] + ["absent"]  # 301 names
    assert len(region) >= ValueSets.SMALLEST
    query = ReadingQuery(object_ids=region, start=start, end=start + timedelta(days=1))
    # when the region is counted, listed, totalled and aggregated
    expected_sum = sum(Decimal(meter % 7) * 4 for meter in range(0, 600, 2))
    assert clickhouse_any.count(query) == 300 * 4
    assert len(list(clickhouse_any.latest(query))) == 300 * 4
    assert clickhouse_any.totals(query) == {"energyActiveImport": expected_sum}
    (day,) = clickhouse_any.aggregate(query, bucket="P1D", group="all")
    # then every answer covers exactly the region's meters
    assert (day.bucket_start, day.sum, day.count) == (start, expected_sum, 1200)
    assert len(clickhouse_any.aggregate(query, bucket="P1D", group="object")) == 300


def test_value_sets_write_single_pairs_as_a_set_of_one_pair():
    sets = ValueSets()
    condition = sets.member("(series, day_start)", ("UInt64", "UInt32"), [(7, 9)])
    assert sets.inline(condition) == "(series, day_start) IN ((7, 9), (7, 9))"
    names = ValueSets()
    assert (
        names.inline(names.member("object_id", ("String",), [("a'b",), ("c",)]))
        == "object_id IN ('a\\'b', 'c')"
    )
    assert ValueSets().member("object_id", ("String",), []) == "0"


def test_value_sets_are_written_in_one_pass_so_data_never_becomes_sql():
    # given a large set whose data holds the name of another set (an id may be any text)
    sets = ValueSets()
    first = sets.member("device_id", ("String",), [("x",)])
    many = sets.member(
        "object_id", ("String",), [(f"_egsu_set_{n % 2}'",) for n in range(ValueSets.SMALLEST)]
    )
    sql = sets.inline(f"{first} AND {many}")
    # then each name of the query is replaced once and the data stays inside its string literal
    assert sql.startswith(
        "device_id IN ('x') AND object_id IN (SELECT c0 FROM format(TabSeparated, 'c0 String', '"
    )
    assert sql.count("_egsu_set_0\\'") == ValueSets.SMALLEST // 2
    assert "format" in sets.inline(sets.relation(("String", "String"), [("a", "b")]))
    with pytest.raises(ValueError, match="at least one row"):
        sets.relation(("String",), [])


@given(st.decimals(min_value=Decimal("-999999999999999"), max_value=Decimal("999999999999999"), places=12))
def test_engine_numbers_read_back_as_tidy_value_gives_them(value):
    # the engine prints a Decimal128(12) with all 12 places; _number must give tidy_value's number and form
    text = format(value.quantize(Decimal("1e-12")), "f")
    assert str(_number(text)) == str(tidy_value(Decimal(text)))


def test_ties_on_time_break_by_object_device_quantity_even_for_prefixes(clickhouse_any, monkeypatch):
    # given three series whose ids are prefixes of each other, all with values at the same instants
    midnight = datetime(2024, 6, 1, tzinfo=UTC) - timedelta(hours=5)
    rows = [
        make_row(value, object_id=object_id, device_id=device_id, quantity="q", unit="kWh",
                 interval="PT15M", period_start=midnight + timedelta(minutes=15 * n))
        for object_id, device_id, value in (("ab", "1", 1), ("abc", "1", 2), ("ab", "10", 3), ("a", "9", 4))
        for n in range(2)
    ]  # fmt: skip
    clickhouse_any.write(rows)
    used = _spy_rollup(clickhouse_any, monkeypatch)
    (day,) = clickhouse_any.aggregate(ReadingQuery(), bucket="P1D", group="all")
    # then first is the smallest (object, device, quantity) at the earliest time, last the largest
    assert used == [True]
    assert (day.first, day.last, day.count) == (4, 2, 8)
    assert [(r.object_id, r.first) for r in clickhouse_any.aggregate(ReadingQuery(), bucket="P1D", group="object")] == [
        ("a", 4), ("ab", 1), ("abc", 2)
    ]  # fmt: skip
    assert clickhouse_any.aggregate(ReadingQuery(), bucket="P1D", group="object") == _rows_only(
        clickhouse_any
    ).aggregate(ReadingQuery(), bucket="P1D", group="object")


def _spy_day_totals(store: ClickHouseReadingsStore, monkeypatch) -> list[bool]:
    used: list[bool] = []
    original = store._day_totals

    def spy(*args, **kwargs):
        used.append(True)
        return original(*args, **kwargs)

    monkeypatch.setattr(store, "_day_totals", spy)
    return used


@pytest.mark.parametrize("bucket", DAILY_BUCKETS)
@pytest.mark.parametrize(
    "query",
    [
        pytest.param(ReadingQuery(), id="open"),
        pytest.param(WHOLE_DAYS, id="whole-days"),
        pytest.param(ReadingQuery(commercial=True, quantities=["heat"]), id="commercial-heat"),
        pytest.param(ReadingQuery(commercial=False, interval="PT15M"), id="non-commercial-interval"),
        pytest.param(ReadingQuery(qualities=("estimated",)), id="estimated"),
        pytest.param(ReadingQuery(qualities=("good",), start=WHOLE_DAYS.start), id="good"),
    ],
)
def test_national_sums_come_from_the_day_totals_with_revisions_subtracted(loaded, monkeypatch, query, bucket):
    # given values of which 5 % were revised (some flipping the commercial flag), and a few revised
    # again as head-end estimates and then delivered (the quality changes with the revision, AMI-16)
    estimated = [replace(row, quality="estimated", value=row.value + 1) for row in FIRST[:400:7]]
    loaded.write(estimated)
    loaded.write([replace(row, quality="good", value=row.value + 2) for row in estimated[::3]])
    used = _spy_day_totals(loaded, monkeypatch)
    # when the sums of every point's values are asked per quantity and in all, per day or month
    for group in ("quantity", "all"):
        got = loaded.aggregate(query, bucket=bucket, group=group, measures="sums")
        # then the day totals answered, exactly as the newest rows' sums and counts
        assert got == [row.sums_only() for row in loaded.aggregate(query, bucket=bucket, group=group)]
        assert got
    assert used == [True, True]
    # and a restriction to points, or a part day, is not answered from them
    loaded.aggregate(ReadingQuery(object_ids=["A1"]), bucket=bucket, group="all", measures="sums")
    loaded.aggregate(ReadingQuery(start=datetime(2024, 2, 28, 1, tzinfo=UTC)), bucket=bucket, group="all",
                     measures="sums")  # fmt: skip
    assert used == [True, True]


def test_the_day_totals_are_filled_for_a_database_from_before_them(clickhouse_any):
    # given rows stored in a database made before the day totals existed (drop them to make one)
    clickhouse_any.write(FIRST)
    clickhouse_any.write(REVISIONS)
    layout, database = clickhouse_any.layout, clickhouse_any.database
    clickhouse_any.connection.command(f"DROP TABLE {database}.{layout.totals_view}")
    clickhouse_any.connection.command(f"DROP TABLE {database}.{layout.totals_table}")
    # when the store opens it again, then they hold every row once and answer like the rows
    reopened = ClickHouseReadingsStore(clickhouse_any.connection, database=database, layout=layout)
    ((count,),) = reopened.connection.query(
        f"SELECT countMerge(s_count) FROM {database}.{layout.totals_table}"
    )
    assert int(count) == len(FIRST) + len(REVISIONS)
    ((rollup,),) = reopened.connection.query(
        f"SELECT countMerge(s_count) FROM {database}.{layout.daily_table}"
    )
    assert int(rollup) == len(FIRST) + len(REVISIONS)  # the daily rollup was not filled twice
    got = reopened.aggregate(ReadingQuery(), bucket="P1D", group="quantity", measures="sums")
    assert got == [r.sums_only() for r in reopened.aggregate(ReadingQuery(), bucket="P1D", group="quantity")]


def test_days_the_day_totals_show_unrevised_skip_the_count_over_the_rows(clickhouse_any, monkeypatch):
    # given daily values on two days, the second revised later
    first, second = DAY, DAY + timedelta(days=1)
    clickhouse_any.write([make_row("1", period_start=first), make_row("2", period_start=second)])
    clickhouse_any.write([make_row("5", period_start=second)])
    counted: list[str] = []
    original = clickhouse_any._query

    def spy(sql, sets=None):
        if "revision > 1" in sql and f"FROM {clickhouse_any.table} " in sql:
            counted.append(sql)
        return original(sql, sets)

    monkeypatch.setattr(clickhouse_any, "_query", spy)
    # when the first day is read, its day totals count no revision: no count over the rows
    assert [r.value for r in clickhouse_any.rows(ReadingQuery(start=first, end=second))] == [Decimal(1)]
    assert counted == []
    # and the second day is read with its revision counted, the newest value only
    assert [r.value for r in clickhouse_any.rows(ReadingQuery(start=second))] == [Decimal(5)]
    assert len(counted) == 1


def _daily_values() -> tuple[list, list, dict]:
    """Daily values over the 1 March 2024 change (Astana midnights), ties on time across series,
    some revised (a few flipping the commercial flag): first writes, revisions, the newest."""
    first, revisions, newest = [], [], {}
    for n in range(40):
        object_id, device_id = ("A1", "B2", "C3")[n % 3], str(n % 2 + 1)
        for quantity in ("energyActiveImport", "heat"):
            for day in range(0, 6 - n % 2):
                moment = datetime(2024, 2, 26, 18, tzinfo=UTC) + timedelta(days=day)
                moment -= (
                    timedelta(hours=1) if moment >= datetime(2024, 2, 29, 18, tzinfo=UTC) else timedelta()
                )
                value = Decimal((n * 37 + day * 11) % 101) / 8
                row = make_row(value, object_id=f"{object_id}{n // 6}", device_id=device_id, quantity=quantity,
                               unit="kWh", interval="P1D", period_start=moment, commercial=day % 2 == 0)  # fmt: skip
                first.append(row)
                newest[(row.key.object_id, device_id, quantity, moment)] = row.value
                if (n + day) % 7 == 0:
                    revised = replace(row, value=row.value + 3, commercial=not row.commercial)
                    revisions.append(revised)
                    newest[(row.key.object_id, device_id, quantity, moment)] = revised.value
    return first, revisions, newest


@pytest.mark.parametrize("group", [group for group in GROUPS if group != "label"])  # labels: one GROUP BY
@pytest.mark.parametrize("bucket", DAILY_BUCKETS)
@pytest.mark.parametrize(
    "query",
    [
        pytest.param(ReadingQuery(interval="P1D"), id="open"),
        pytest.param(replace(WHOLE_DAYS, interval="P1D"), id="whole-days"),
        pytest.param(ReadingQuery(interval="P1D", commercial=True), id="commercial"),
    ],
)
def test_months_of_daily_values_are_read_from_the_rows_with_the_rollups_answer(
    clickhouse_any, monkeypatch, query, bucket, group
):
    # given daily values, some revised (issue 13: for them the rollup holds as many rows as the rows)
    first, revisions, _newest = _daily_values()
    clickhouse_any.write(first)
    clickhouse_any.write(revisions)
    used = _spy_rollup(clickhouse_any, monkeypatch)
    # when days or months of daily values are aggregated
    got = clickhouse_any.aggregate(query, bucket=bucket, group=group)
    # then months were read from the rows, days from the rollup ...
    from_rows = bucket == "P1M"
    assert used == ([] if from_rows else [True])
    # ... and the other plan, asked the same, answers exactly the same, also streamed and in chunks
    monkeypatch.setattr("egsu.readings.backends.clickhouse._rollup_pays", lambda query, bucket: from_rows)
    other = clickhouse_any.aggregate(query, bucket=bucket, group=group)
    assert used == [True]  # one of the two answers came from the rollup
    streamed = list(clickhouse_any.aggregate_iter(query, bucket=bucket, group=group))
    chunks = [
        row for chunk in clickhouse_any.aggregate_chunks(query, bucket=bucket, group=group) for row in chunk
    ]
    assert got == other == streamed
    assert len(chunks) == len(got)
    assert got  # the comparison is not between two empty answers
