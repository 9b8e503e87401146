"""Registry rules: OBIS codes, gas bands and intervals, channel checks, verification warnings."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from hypothesis import given
from hypothesis import strategies as st

from egsu.ami import catalog, services
from egsu.ami.models import Channel, Meter, MeteringObject
from egsu.ami.obis import default_obis, obis_problem, parse_obis
from tests.registry.factories import make_subject


@pytest.mark.parametrize(
    "text",
    ["1-0:1.8.0*255", "1-0:2.29.4*255", "7-0:3.0.0*255", "0-0:96.1.0*255"],
    ids=["a-plus-register", "a-minus-t4-interval", "gas", "serial-number-object"],
)
def test_well_formed_obis_codes_parse(text):
    assert str(parse_obis(text)) == text


@pytest.mark.parametrize(
    "text",
    ["1-0:1.8.0", "1.8.0", "1-0:1.8.0*256", "16-0:1.8.0*255", "1-0:1.8*255", "1-0:1.8.0*255 x", ""],
    ids=["no-f", "short-form", "f-over-255", "a-over-15", "missing-e", "trailing", "empty"],
)
def test_malformed_obis_codes_are_refused(text):
    with pytest.raises(ValueError):
        parse_obis(text)


@given(st.tuples(st.integers(0, 15), *[st.integers(0, 255)] * 5))
def test_every_obis_in_range_round_trips(groups):
    text = "{}-{}:{}.{}.{}*{}".format(*groups)
    assert str(parse_obis(text)) == text


@pytest.mark.parametrize(
    ("obis", "code", "ok"),
    [
        ("1-0:1.8.0*255", "A+", True),
        ("1-0:1.29.2*255", "A+T2", True),
        ("1-0:4.8.0*255", "R-", True),
        ("1-0:2.8.0*255", "A+", False),
        ("1-0:1.8.1*255", "A+", False),
        ("7-0:1.8.0*255", "A+", False),
        ("1-0:1.7.0*255", "A+", False),
    ],
    ids=[
        "a-plus",
        "a-plus-t2",
        "r-minus",
        "wrong-quantity",
        "wrong-tariff",
        "wrong-medium",
        "power-not-energy",
    ],
)
def test_obis_must_fit_the_channel(obis, code, ok):
    assert (obis_problem(obis, code) is None) is ok


def test_default_obis_fits_every_electricity_channel():
    codes = [q.code for q in catalog.QUANTITIES.values() if q.energy == catalog.Energy.ELECTRICITY]
    assert len(codes) == 20
    assert all(obis_problem(default_obis(code), code) is None for code in codes)


@pytest.mark.parametrize(
    ("flow", "band", "interval"),
    [
        (Decimal("0"), catalog.GasBand.LOW, "P1D"),
        (Decimal("499.9"), catalog.GasBand.LOW, "P1D"),
        (Decimal("500"), catalog.GasBand.MEDIUM, "PT1H"),
        (Decimal("2000"), catalog.GasBand.MEDIUM, "PT1H"),
        (Decimal("2000.1"), catalog.GasBand.HIGH, "PT10M"),
    ],
    ids=["zero", "below-500", "500", "2000", "above-2000"],
)
def test_gas_bands_set_the_interval(flow, band, interval):
    # AMI-44 / Tech.req. §31
    assert catalog.gas_band(flow) is band
    assert catalog.channel_interval(catalog.Energy.GAS, band) == interval


def test_electricity_and_heat_are_every_15_minutes():
    assert catalog.channel_interval(catalog.Energy.ELECTRICITY) == "PT15M"
    assert catalog.channel_interval(catalog.Energy.HEAT) == "PT15M"


def _meter(subject, obj, **fields) -> Meter:
    values = dict(
        subject=subject,
        metering_object=obj,
        energy="electricity",
        meter_type="3P-CT",
        model="X",
        serial_number="S1",
    )
    return Meter(**(values | fields))


@pytest.fixture
def place(db):
    subject = make_subject()
    obj = MeteringObject.objects.create(code="SS-1", kind="substation", name="SS 1", region="Almaty")
    return subject, obj


@pytest.mark.django_db
def test_a_gas_meter_needs_a_band_and_others_have_none(place):
    subject, obj = place
    with pytest.raises(ValidationError) as no_band:
        _meter(subject, obj, energy="gas", meter_type="GAS-I").full_clean()
    with pytest.raises(ValidationError) as band_on_electricity:
        _meter(subject, obj, gas_band="low").full_clean()
    assert list(no_band.value.message_dict) == list(band_on_electricity.value.message_dict) == ["gas_band"]
    with pytest.raises(IntegrityError):
        _meter(subject, obj, energy="gas", meter_type="GAS-I").save()


@pytest.mark.django_db
def test_channels_are_checked_against_their_meter(place):
    subject, obj = place
    [meter] = services.register_meters([_meter(subject, obj)], ["A+"])
    channel = Channel.objects.get(meter=meter)
    assert (channel.unit, channel.obis, channel.interval) == ("kWh", "1-0:1.29.0*255", "PT15M")
    with pytest.raises(ValidationError, match="is not A-"):
        Channel(meter=meter, code="A-", unit="kWh", interval="PT15M", obis="1-0:1.8.0*255").full_clean()
    with pytest.raises(ValidationError, match="heat quantity"):
        Channel(meter=meter, code="Q", unit="Gcal", interval="PT15M").full_clean()
    with pytest.raises(ValidationError, match="every PT15M"):
        Channel(meter=meter, code="A-", unit="kWh", interval="PT1H", obis="1-0:2.29.0*255").full_clean()


@pytest.mark.django_db
def test_a_serial_number_is_unique_per_utility(place):
    subject, obj = place
    services.register_meters([_meter(subject, obj)], [])
    services.register_meters([_meter(make_subject(), obj)], [])  # another utility may reuse it
    with pytest.raises(IntegrityError):
        services.register_meters([_meter(subject, obj)], [])


@pytest.mark.django_db
def test_verification_warnings_list_meters_expiring_within_n_days(place):
    # given meters due in 5, 30 and 31 days, one overdue and one inactive due in 5 days
    subject, obj = place
    today = date(2026, 5, 1)
    due = {"in5": 5, "in30": 30, "in31": 31, "overdue": -1, "inactive": 5}
    services.register_meters(
        [
            _meter(
                subject, obj, serial_number=name, verified_on=today - timedelta(days=3000),
                verification_due=today + timedelta(days=days), active=name != "inactive",
            )
            for name, days in due.items()
        ],
        [],
    )  # fmt: skip
    # when the 30-day warning list is asked for
    soon = services.verification_due(30, today=today)
    with_overdue = services.verification_due(30, today=today, include_overdue=True)
    # then it holds the active meters due within 30 days, soonest first
    assert [m.serial_number for m in soon] == ["in5", "in30"]
    assert [m.serial_number for m in with_overdue] == ["overdue", "in5", "in30"]


@pytest.mark.django_db
def test_a_head_end_token_is_stored_hashed_and_authenticates(place):
    subject, _obj = place
    head_end, token = services.create_head_end("hes-x", subject)
    assert token not in head_end.token_hash
    assert services.authenticate(token) == head_end
    assert services.authenticate(token + "x") is None
    assert services.authenticate(None) is None
    new = services.rotate_token(head_end)
    assert services.authenticate(token) is None
    assert services.authenticate(new) == head_end
