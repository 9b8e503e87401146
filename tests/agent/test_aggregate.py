"""The aggregation rules (FMT-04, Table 1.3 rows 10–12, FMT-05) as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from egsu_agent.aggregate import device_record, device_values, mean, totaliser_span
from egsu_agent.config import DeviceConfig
from egsu_agent.samples import Sample
from egsu_agent.schedule import two_hour_period

PERIOD = two_hour_period(date(2026, 3, 10), 2)  # 02:00–04:00 Astana
TANK = DeviceConfig.model_validate(
    {
        "object_id": "407004",
        "kind": "1.2",
        "device": "2",
        "device_type": 1,
        "operation_type": 7,
        "product_type": 1,
        "quantities": {"tankLevel": {"tag": "L", "unit": "m"}, "volume": {"tag": "V", "unit": "m3"}},
    }
)
FLOW = DeviceConfig.model_validate(
    {
        "object_id": "407001",
        "kind": "1.3",
        "device": "1",
        "device_type": 2,
        "operation_type": 3,
        "product_type": 1,
        "pipeline": 3,
        "totaliser": {"tag": "M", "unit": "kg"},
        "status_tag": "S",
    }
)


def at(minutes: int) -> datetime:
    return PERIOD.start + timedelta(minutes=minutes)


def samples(tag: str, *pairs, fault_at=()) -> list[Sample]:
    return [Sample(at(m), tag, Decimal(str(v)), m in fault_at) for m, v in pairs]


def test_two_hourly_level_is_the_mean_of_the_period_in_cm_and_the_record_uses_table_names():
    # given level samples in metres inside and just outside the period
    data = {
        "L": samples("L", (-30, 9), (0, 5), (30, 5.5), (90, 6), (120, 99)),
        "V": samples("V", (0, 100), (60, 101)),
    }
    # when aggregated
    result = device_values(TANK, PERIOD, data, decimals=3)
    record = device_record(TANK, PERIOD, result, registered_at=PERIOD.end)
    # then the mean of [start, end) only, converted to cm; table 1.2 names the device number deviceId
    assert result.values == {"tankLevel": Decimal("550.000"), "volume": Decimal("100.500")}
    assert result.ok
    assert record["deviceId"] == "2" and record["deviceTypeId"] == "1" and record["isDaily"] == "no"
    assert record["tankLevel"] == "550.000" and record["deviceStatus"] == "yes"
    assert record["datetime"] == "2026-03-10T02:00:00.000+05:00"


def test_totaliser_gives_begin_end_and_shipped_mass_in_tonnes():
    data = {"M": samples("M", (-10, 1_000_000), (40, 1_001_000), (120, 1_002_500)), "S": samples("S", (0, 0))}
    result = device_values(FLOW, PERIOD, data, decimals=3)
    assert result.values == {
        "massflowbegin": Decimal("1000.000"),
        "massflowend": Decimal("1002.500"),
        "mass": Decimal("2.500"),
    }
    record = device_record(FLOW, PERIOD, result, registered_at=PERIOD.end)
    assert record["deviceId"] == "2" and record["deviceNameId"] == "1" and record["pipelineId"] == "3"


def test_a_fault_flag_or_a_status_tag_makes_the_device_unserviceable():
    data = {"L": samples("L", (0, 5), (30, 7), fault_at=(30,)), "V": samples("V", (0, 100))}
    result = device_values(TANK, PERIOD, data, decimals=3)
    assert result.values["tankLevel"] == Decimal("500.000")  # the faulty sample is left out
    assert not result.ok
    flow = device_values(
        FLOW, PERIOD, {"M": samples("M", (0, 1), (120, 2)), "S": samples("S", (10, 1))}, decimals=3
    )
    assert not flow.ok


def test_a_silent_device_gives_no_record_and_names_its_tags():
    result = device_values(TANK, PERIOD, {}, decimals=3)
    assert result.silent_tags == ("L", "V") and not result.ok
    assert device_record(TANK, PERIOD, result, registered_at=PERIOD.end) is None


@given(st.lists(st.decimals(min_value=-1000, max_value=1000, places=3), min_size=1, max_size=50))
def test_the_mean_lies_between_the_extremes(values):
    assert min(values) <= mean(values) <= max(values)


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=2, max_size=30))
def test_consecutive_periods_chain_their_totaliser_readings(increments):
    # given a counter read every 10 minutes over two periods
    total, points = 0, []
    for n, step in enumerate(increments):
        total += step
        points.append(Sample(PERIOD.start + timedelta(minutes=10 * n), "M", Decimal(total)))
    second = two_hour_period(date(2026, 3, 10), 4)
    first_span, second_span = totaliser_span(points, PERIOD), totaliser_span(points, second)
    # then one period's end is the next one's begin, and the shipped mass is never negative
    if first_span and second_span:
        assert first_span[1].value == second_span[0].value
    for span in (first_span, second_span):
        if span:
            assert span[1].value >= span[0].value


def test_daily_record_is_dated_at_astana_midnight():
    from egsu_agent.schedule import day_period

    day = day_period(date(2026, 3, 10))
    data = {"L": [Sample(day.start + timedelta(hours=h), "L", Decimal(h)) for h in range(24)], "V": []}
    result = device_values(TANK, day, data, decimals=2)
    record = device_record(TANK, day, result, registered_at=day.end)
    assert record["isDaily"] == "yes" and record["datetime"] == "2026-03-10T00:00:00.000+05:00"
    assert record["tankLevel"] == "1150.00"  # mean of 0…23 m = 11.5 m
    assert record["deviceStatus"] == "no"  # the volume tag was silent
    assert datetime(2026, 3, 9, 19, tzinfo=UTC) == day.start
