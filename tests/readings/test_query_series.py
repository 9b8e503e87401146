"""Metering points given as a Django queryset restrict every read, on every backend.

The SQL backend reads the queryset as a subquery of the same statement (never loading its
pairs); ClickHouse asks it for its pairs. Devices (oil and gas) name their object through the
facility; AMI meters are stored under their primary key as text.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import CharField
from django.db.models.functions import Cast

from egsu.readings.backends.sql import SqlReadingsStore
from egsu.readings.query_series import QuerySeries
from egsu.readings.store import ReadingQuery
from egsu.registry.models import Device
from tests.readings import store_backends
from tests.readings.factories import DAY, make_row
from tests.registry.factories import make_device, make_facility, make_subject

any_store = store_backends.any_store


def _values(object_id: str, device_id: str, quantity: str = "mass") -> list:
    return [
        make_row(str(n + 1), object_id=object_id, device_id=device_id, quantity=quantity, period_start=DAY + timedelta(days=n))
        for n in range(3)
    ]  # fmt: skip


@pytest.fixture
def no_pairs_on_sql(any_store, monkeypatch):
    """On SQL, loading the pairs into Python would defeat the subquery: make it fail loudly."""
    if isinstance(any_store, SqlReadingsStore):

        def refuse(self):
            raise AssertionError("the SQL backend must read a QuerySeries as a subquery")

        monkeypatch.setattr(QuerySeries, "pairs", refuse)
    return any_store


@pytest.mark.django_db
def test_devices_of_a_facility_queryset(no_pairs_on_sql):
    store = no_pairs_on_sql
    # given two facilities with devices, and values for each device and for an unregistered one
    north, south = make_facility("N1"), make_facility("S1")
    for facility, device_id in ((north, "1"), (north, "2"), (south, "1")):
        make_device(facility, device_id=device_id)
    store.write(_values("N1", "1") + _values("N1", "2") + _values("S1", "1") + _values("N1", "9"))
    # when reads are restricted to the devices of N1 (as a page's scope would give them)
    devices = QuerySeries(
        Device.objects.filter(facility__object_id="N1"),
        object_field="facility__object_id",
        device_field="device_id",
    )
    query = ReadingQuery(series=devices)
    # then only N1/1 and N1/2 are read, by every read method
    assert {(r.key.object_id, r.key.device_id) for r in store.rows(query)} == {("N1", "1"), ("N1", "2")}
    assert store.count(query) == 6
    assert [(r.key.device_id, r.value) for r in store.newest(query)] == [("1", Decimal(3)), ("2", Decimal(3))]
    assert store.totals(query) == {"mass": Decimal(12)}
    (month,) = store.aggregate(query, bucket="P1M", group="object")
    assert (month.object_id, month.sum, month.count) == ("N1", Decimal(12), 6)
    assert len(devices) == 2


@pytest.mark.django_db
def test_meters_stored_under_their_primary_key(no_pairs_on_sql):
    store = no_pairs_on_sql
    from egsu.ami.models import Meter, MeteringObject

    # given two meters of one metering object, and values of both
    subject = make_subject(name="Utility")
    point = MeteringObject.objects.create(code="TP-1", kind="transformer_point", name="TP 1", region="Astana")
    meters = [
        Meter.objects.create(
            subject=subject, metering_object=point, energy="electricity", meter_type="1P", model="M1",
            serial_number=f"E{n}", verified_on=date(2024, 1, 1), verification_due=date(2032, 1, 1),
        )
        for n in range(2)
    ]  # fmt: skip
    for meter in meters:
        store.write(_values("TP-1", str(meter.pk), quantity="energyActiveImport"))
    # when reads are restricted to the first meter, its device id being its primary key as text
    first = QuerySeries(
        Meter.objects.filter(pk=meters[0].pk).annotate(store_device_id=Cast("pk", CharField())),
        object_field="metering_object__code",
        device_field="store_device_id",
    )
    query = ReadingQuery(series=first, commercial=False)
    # then only its values are read
    assert {r.key.device_id for r in store.rows(query)} == {str(meters[0].pk)}
    assert store.count(query) == 3
    days = store.aggregate(query, bucket="P1D", group="series")
    assert [(day.device_id, day.sum) for day in days] == [(str(meters[0].pk), Decimal(n)) for n in (1, 2, 3)]


@pytest.mark.django_db
def test_ordered_pairs_are_in_the_stores_text_order():
    # given objects and devices named in several scripts and cases (code point order differs from a
    # language's: "Z" < "a" < "Ё" < "а" < "қ")
    names = ["а-1", "Ё-2", "Z-3", "a-4", "қ-5", "A10", "A9"]
    for name in names:
        facility = make_facility(name)
        for device_id in ("b", "B", "ә", "10", "9"):
            make_device(facility, device_id=device_id)
    devices = QuerySeries(Device.objects.all(), object_field="facility__object_id", device_field="device_id")
    # when they are read in order (the streamed per-point answers cut them into slices)
    ordered = list(devices.ordered_pairs())
    # then they are the distinct pairs, sorted as Python (and ClickHouse, bytewise UTF-8) sort them
    assert ordered == sorted(set(devices.pairs())) and len(ordered) == len(names) * 5
