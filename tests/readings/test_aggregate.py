"""Aggregates on every backend against a brute-force computation, across the 1 March 2024 change."""

from __future__ import annotations

import bisect
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egsu.readings.aggregation import aggregate_values, bucket_start
from egsu.readings.store import BUCKETS, GROUPS, ReadingQuery
from egsu_core.clock import ASTANA
from tests.readings import store_backends
from tests.readings.factories import make_row

any_store = store_backends.any_store
clickhouse_any = store_backends.clickhouse_any

# 27 Feb – 3 Mar 2024 (Astana): 29 Feb lasts 25 hours, the clock went from UTC+6 to UTC+5.
START = datetime(2024, 2, 26, 18, 0, tzinfo=UTC)
QUARTERS = 5 * 96 + 4


def _local_boundaries(bucket: str) -> list[datetime]:
    """Every bucket start from 2023 to 2026, listed from the calendar (not computed per value)."""
    if bucket == "P1D":
        days = [date(2023, 1, 1) + timedelta(days=n) for n in range(365 * 4)]
    else:
        days = [date(year, month, 1) for year in range(2023, 2027) for month in range(1, 13)]
    return [datetime(d.year, d.month, d.day, tzinfo=ASTANA).astimezone(UTC) for d in days]


BOUNDARIES = {bucket: _local_boundaries(bucket) for bucket in ("P1D", "P1M")}


def brute_bucket(moment: datetime, bucket: str) -> datetime:
    if bucket == "PT15M":
        return datetime.fromtimestamp(int(moment.timestamp()) // 900 * 900, UTC)
    if bucket == "PT1H":
        return datetime.fromtimestamp(int(moment.timestamp()) // 3600 * 3600, UTC)
    starts = BOUNDARIES[bucket]
    return starts[bisect.bisect_right(starts, moment) - 1]


# Labels for group "label": two series of the dataset have none (B2/2, C3/1) and drop out.
LABELS = {("A1", "1"): "north", ("A1", "2"): "south", ("B2", "1"): "north", ("C3", "2"): "east"}


def labels_for(group: str) -> dict | None:
    return LABELS if group == "label" else None


def brute_force(values, bucket: str, group: str, labels=LABELS) -> list[tuple]:
    """(label, object, device, quantity, bucket, sum, min, max, count, first, last), by plain lists."""
    keep = {
        "series": (1, 1, 1),
        "object": (1, 0, 1),
        "quantity": (0, 0, 1),
        "all": (0, 0, 0),
        "label": (0, 0, 1),
    }
    groups: dict[tuple, list] = {}
    for object_id, device_id, quantity, moment, value in values:
        label = labels.get((object_id, device_id)) if group == "label" else None
        if group == "label" and label is None:
            continue
        fields = tuple(
            f if k else None for f, k in zip((object_id, device_id, quantity), keep[group], strict=True)
        )
        groups.setdefault((label, *fields, brute_bucket(moment, bucket)), []).append(
            (moment, object_id, device_id, quantity, value)
        )
    result = []
    for key, members in groups.items():
        members.sort()
        numbers = [m[-1] for m in members]
        result.append((*key, sum(numbers), min(numbers), max(numbers), len(numbers), numbers[0], numbers[-1]))
    return sorted(result, key=lambda r: tuple((x is not None, x or "") for x in r[:4]) + (r[4],))


def as_tuples(rows) -> list[tuple]:
    return [
        (
            r.label,
            r.object_id,
            r.device_id,
            r.quantity,
            r.bucket_start,
            r.sum,
            r.min,
            r.max,
            r.count,
            r.first,
            r.last,
        )
        for r in rows
    ]


def _dataset():
    """15-minute values of 3 objects × 2 devices × 2 quantities, some revised later; latest wins."""
    generator = random.Random(7)
    first, revisions, newest = [], [], {}
    for object_id in ("A1", "B2", "C3"):
        for device_id in ("1", "2"):
            for quantity, unit in (("energyActiveImport", "kWh"), ("heat", "Gcal")):
                for n in range(0, QUARTERS, 1 if device_id == "1" else 3):
                    moment = START + timedelta(minutes=15 * n)
                    value = Decimal(generator.randint(-500, 250_000)) / 1000
                    row = make_row(
                        value, object_id=object_id, device_id=device_id, quantity=quantity, unit=unit,
                        interval="PT15M", period_start=moment, commercial=device_id == "1",
                    )  # fmt: skip
                    first.append(row)
                    newest[(object_id, device_id, quantity, moment)] = (row.value, device_id == "1")
                    if generator.random() < 0.05:
                        revised = Decimal(generator.randint(0, 9_999_999)) / 10_000
                        commercial = generator.random() < 0.5
                        revisions.append(
                            make_row(
                                revised,
                                object_id=object_id,
                                device_id=device_id,
                                quantity=quantity,
                                unit=unit,
                                interval="PT15M",
                                period_start=moment,
                                source="act-1",
                                commercial=commercial,
                            )  # fmt: skip
                        )
                        newest[(object_id, device_id, quantity, moment)] = (revised, commercial)
    return first, revisions, newest


FIRST, REVISIONS, NEWEST = _dataset()
# hypothesis takes naive bounds and attaches the zone itself
NAIVE_FROM, NAIVE_TO = datetime(2023, 6, 1), datetime(2025, 6, 1)  # noqa: DTZ001


@pytest.fixture
def loaded(any_store):
    any_store.write(FIRST)
    any_store.write(REVISIONS)
    return any_store


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("bucket", BUCKETS)
def test_aggregates_match_brute_force_across_the_clock_change(loaded, bucket, group):
    # given 15-minute values across 1 March 2024, some revised, when aggregated
    got = loaded.aggregate(ReadingQuery(), bucket=bucket, group=group, labels=labels_for(group))
    # then every group and bucket equals the brute-force sums of the newest revisions
    values = [(*key, value) for key, (value, _c) in NEWEST.items()]
    assert as_tuples(got) == brute_force(values, bucket, group)


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        pytest.param(ReadingQuery(commercial=True), lambda k, c: c, id="commercial-newest-revision"),
        pytest.param(ReadingQuery(object_ids=["B2"], quantities=["heat"]), lambda k, c: k[0] == "B2" and k[2] == "heat", id="object-quantity"),
        pytest.param(
            ReadingQuery(start=datetime(2024, 2, 29, 19, tzinfo=UTC), end=datetime(2024, 3, 1, 19, tzinfo=UTC)),
            lambda k, c: datetime(2024, 2, 29, 19, tzinfo=UTC) <= k[3] < datetime(2024, 3, 1, 19, tzinfo=UTC),
            id="1-march-astana",
        ),
    ],
)  # fmt: skip
def test_aggregates_and_totals_follow_the_query(loaded, query, keep):
    values = [(*key, value) for key, (value, commercial) in NEWEST.items() if keep(key, commercial)]
    assert as_tuples(loaded.aggregate(query, bucket="P1D", group="object")) == brute_force(
        values, "P1D", "object"
    )
    assert as_tuples(loaded.aggregate(query, bucket="P1M", group="label", labels=LABELS)) == brute_force(
        values, "P1M", "label"
    )
    totals: dict[str, Decimal] = {}
    for _o, _d, quantity, _m, value in values:
        totals[quantity] = totals.get(quantity, Decimal(0)) + value
    assert loaded.totals(query) == totals


def test_29_february_2024_lasts_25_hours_on_the_astana_clock(loaded):
    # given one series every 15 minutes, when counted per Astana day
    query = ReadingQuery(object_ids=["A1"], device_ids=["1"], quantities=["heat"])
    days = {r.bucket_start: r.count for r in loaded.aggregate(query, bucket="P1D", group="series")}
    # then 28 Feb has 96 quarter-hours, 29 Feb 100 (the clock went back an hour), 1 March 96
    assert days[datetime(2024, 2, 27, 18, tzinfo=UTC)] == 96
    assert days[datetime(2024, 2, 28, 18, tzinfo=UTC)] == 100
    assert days[datetime(2024, 2, 29, 19, tzinfo=UTC)] == 96


def test_unknown_bucket_or_group_is_refused(any_store):
    with pytest.raises(ValueError, match="unknown bucket"):
        any_store.aggregate(ReadingQuery(), bucket="P1W", group="all")
    with pytest.raises(ValueError, match="unknown group"):
        any_store.aggregate(ReadingQuery(), bucket="P1D", group="region")
    with pytest.raises(ValueError, match="labels go with"):
        any_store.aggregate(ReadingQuery(), bucket="P1D", group="label")
    with pytest.raises(ValueError, match="labels go with"):
        any_store.aggregate_iter(ReadingQuery(), bucket="P1D", group="object", labels=LABELS)
    with pytest.raises(ValueError, match="a label is a string"):
        any_store.aggregate(ReadingQuery(), bucket="P1D", group="label", labels={("A1", "1"): 7})


@pytest.mark.parametrize("flavour", store_backends.CLICKHOUSE_FLAVOURS)
@pytest.mark.django_db
def test_thousands_of_meters_give_the_same_totals_on_sql_and_clickhouse(flavour):
    # given 1,000 meters × 2 channels × 12 quarter-hours across the change (24,000 values), sent twice
    # in batches of 10,000 (the PostgreSQL pass writes it once per ClickHouse flavour: kept lean for CI)
    from egsu.readings.backends.sql import SqlReadingsStore

    start = datetime(2024, 2, 29, 17, 0, tzinfo=UTC)
    rows = [
        make_row(f"{(meter * 7 + n) % 1000}.{n:03d}", object_id=f"S{meter // 50:03d}", device_id=f"M{meter:05d}",
                 quantity=quantity, unit="kWh", interval="PT15M", period_start=start + timedelta(minutes=15 * n))
        for meter in range(1000)
        for quantity in ("energyActiveImport", "energyActiveExport")
        for n in range(12)
    ]  # fmt: skip
    sql, clickhouse = SqlReadingsStore(), store_backends.clickhouse_store(flavour)
    try:
        for store in (sql, clickhouse):
            assert store.write_many(rows, batch_size=10_000).new == 24_000
            assert store.write_many(rows, batch_size=10_000).duplicate == 24_000
        # then totals, counts and daily per-object aggregates agree exactly
        everything = ReadingQuery()
        assert sql.totals(everything) == clickhouse.totals(everything)
        assert sql.count(everything) == clickhouse.count(everything) == 24_000
        for bucket in ("PT1H", "P1D"):
            assert sql.aggregate(everything, bucket=bucket, group="object") == clickhouse.aggregate(
                everything, bucket=bucket, group="object"
            )
    finally:
        store_backends.drop_database(clickhouse)


@settings(max_examples=200, deadline=None)
@given(
    moments=st.lists(
        st.datetimes(min_value=NAIVE_FROM, max_value=NAIVE_TO, timezones=st.just(UTC)),
        min_size=1,
        max_size=30,
    ),
    bucket=st.sampled_from(BUCKETS),
    group=st.sampled_from(GROUPS),
)
def test_python_aggregation_matches_brute_force(moments, bucket, group):
    values = [
        (f"o{i % 3}", f"d{i % 2}", "q" if i % 4 else "r", m.replace(microsecond=0), Decimal(i) / 8)
        for i, m in enumerate(moments)
    ]
    # duplicate (series, time) pairs are not possible among newest revisions
    unique = list({v[:4]: v for v in values}.values())
    labels = {("o0", "d0"): "x", ("o1", "d1"): "y", ("o2", "d0"): "x"}  # (o1, d0) … have none
    got = aggregate_values(unique, bucket=bucket, group=group, labels=labels if group == "label" else None)
    assert as_tuples(got) == brute_force(unique, bucket, group, labels)


@given(moment=st.datetimes(min_value=NAIVE_FROM, max_value=NAIVE_TO, timezones=st.just(UTC)))
def test_bucket_start_holds_the_moment(moment):
    for bucket in BUCKETS:
        start = bucket_start(moment, bucket)
        assert start <= moment
        assert start == brute_bucket(moment, bucket)


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        pytest.param("all", [(None, None, None, Decimal("102"), Decimal("8"), Decimal("70"))], id="all"),
        pytest.param(
            "quantity",
            [
                (None, None, "heat", Decimal("12"), Decimal("5"), Decimal("7")),
                (None, None, "mass", Decimal("90"), Decimal("8"), Decimal("70")),
            ],
            id="quantity",
        ),
        pytest.param(
            "object",
            [
                ("A1", None, "heat", Decimal("5"), Decimal("5"), Decimal("5")),
                ("A1", None, "mass", Decimal("10"), Decimal("8"), Decimal("2")),
                ("B2", None, "heat", Decimal("7"), Decimal("7"), Decimal("7")),
                ("B2", None, "mass", Decimal("80"), Decimal("9"), Decimal("70")),
            ],
            id="object",
        ),
    ],
)
def test_first_and_last_span_series_ordered_by_time_then_object_device_quantity(any_store, group, expected):
    # given series whose earliest and latest values fall at the same instants (ties across series),
    # the latest of one series revised and a revised-away value that must not count
    t0, t1, t2 = START, START + timedelta(minutes=15), START + timedelta(minutes=30)
    rows = [
        make_row("8", object_id="A1", device_id="2", period_start=t0),
        make_row("2", object_id="A1", device_id="2", period_start=t2),
        make_row("9", object_id="B2", device_id="1", period_start=t0),
        make_row("99", object_id="B2", device_id="1", period_start=t2),
        make_row("5", object_id="A1", device_id="9", quantity="heat", unit="Gcal", period_start=t0),
        make_row("7", object_id="B2", device_id="1", quantity="heat", unit="Gcal", period_start=t2),
    ]
    any_store.write(rows)
    any_store.write([make_row("1", object_id="B2", device_id="1", period_start=t1)])
    any_store.write([make_row("70", object_id="B2", device_id="1", period_start=t2, source="act")])
    # when one Astana day is aggregated
    got = any_store.aggregate(ReadingQuery(), bucket="P1D", group=group)
    # then first is the earliest value, ties to the lowest (object, device, quantity); last the latest,
    # ties to the highest; the revised value (99) is replaced by its newest revision (70)
    assert [(r.object_id, r.device_id, r.quantity, r.sum, r.first, r.last) for r in got] == expected


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("bucket", ("PT1H", "P1D", "P1M"))
@pytest.mark.parametrize(
    "query",
    [
        pytest.param(ReadingQuery(), id="open"),
        pytest.param(ReadingQuery(commercial=True, quantities=["heat"]), id="commercial-heat"),
        pytest.param(ReadingQuery(qualities=("good",), object_ids=["A1", "C3"]), id="quality-objects"),
        pytest.param(ReadingQuery(start=datetime(2024, 2, 28, 18, 45, tzinfo=UTC)), id="part-day"),
        pytest.param(
            ReadingQuery(start=datetime(2024, 2, 27, 18, tzinfo=UTC), end=datetime(2024, 3, 1, 19, tzinfo=UTC)),
            id="whole-days",
        ),
    ],
)  # fmt: skip
def test_sums_only_are_the_sums_and_counts_of_every_figure(loaded, query, bucket, group):
    # given values of which 5 % were revised, when only sums are asked for (totals, ANA-04..07)
    labels = labels_for(group)
    got = loaded.aggregate(query, bucket=bucket, group=group, labels=labels, measures="sums")
    # then every backend answers the same groups, sums and counts as the full aggregate, and no more
    full = loaded.aggregate(query, bucket=bucket, group=group, labels=labels)
    assert got == [row.sums_only() for row in full]
    assert got and all(r.min is r.max is r.first is r.last is None for r in got)
    assert (
        list(loaded.aggregate_iter(query, bucket=bucket, group=group, labels=labels, measures="sums")) == got
    )


def test_unknown_measures_are_refused(any_store):
    with pytest.raises(ValueError, match="unknown measures"):
        any_store.aggregate(ReadingQuery(), bucket="P1D", group="all", measures="median")
