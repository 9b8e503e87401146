"""DjangoRegistryView: what the ISUN rules read from the registry, in few queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from egsu.registry.models import ProductType
from egsu.registry.snapshot import DjangoRegistryView
from egsu_core.isun.registry_view import DeviceInfo, FacilityInfo, RegistryView
from tests.registry.factories import (
    make_device,
    make_facility,
    make_pipeline,
    make_product_type,
    make_subject,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    subject = make_subject(bin="020240000555", name="KMG")
    make_product_type(1)
    make_pipeline(3)
    sikn = make_facility("407001", kind="1.3", subject=subject)
    make_device(
        sikn, "1", device_type_id=2, product_type_id=1, pipeline_id=3, commercial=True, operations=[3]
    )
    tank = make_facility("407004", kind="1.2", subject=subject, active=False)
    make_device(tank, "2", device_type_id=1, product_type_id=1, active=False)
    return subject


def test_facility_carries_everything_the_rules_need(registry):
    view: RegistryView = DjangoRegistryView()
    assert view.facility("407001") == FacilityInfo(
        object_id="407001",
        kind="1.3",
        subject_bin="020240000555",
        active=True,
        devices={
            "1": DeviceInfo(
                device_id="1",
                device_type_id=2,
                product_type_id=1,
                pipeline_id=3,
                commercial=True,
                active=True,
                allowed_operations=frozenset({3}),
            )
        },
    )


def test_inactive_facility_and_device_are_returned_marked_inactive(registry):
    facility = DjangoRegistryView().facility("407004")
    assert facility.active is False
    assert facility.devices["2"].active is False
    assert facility.devices["2"].allowed_operations == frozenset()


def test_unknown_facility_is_none(registry):
    assert DjangoRegistryView().facility("999999") is None


def test_facility_without_devices_has_an_empty_map(registry):
    make_facility("501001", kind="1.4", subject=registry)
    assert DjangoRegistryView().facility("501001").devices == {}


def test_owners_are_the_subjects_the_rules_judged_by(registry):
    """The arrivals ledger places a message's records with these (egsu.monitoring.ledger.Known)."""
    other = make_subject(bin="990240000111", name="Other")
    make_facility("501002", kind="1.4", subject=other)
    view = DjangoRegistryView()
    view.prefetch(["407001", "501002", "missing"])
    assert view.owners() == {"407001": registry.pk, "501002": other.pk, "missing": None}


def test_prefetch_loads_many_facilities_in_one_query_and_then_none(registry):
    for n in range(300):
        facility = make_facility(f"6{n:05d}", kind="1.8", subject=registry)
        make_device(facility, "1", device_type_id=11, operations=[12, 13])
    wanted = [f"6{n:05d}" for n in range(300)] + ["407001", "missing"]
    view = DjangoRegistryView()
    with CaptureQueriesContext(connection) as queries:
        view.prefetch(wanted)
    assert len(queries.captured_queries) == 1  # facilities, devices and operations joined (issue 13)
    with CaptureQueriesContext(connection) as queries:
        facilities = [view.facility(object_id) for object_id in wanted]
    assert queries.captured_queries == []
    assert facilities[0].devices["1"].allowed_operations == {12, 13}
    assert facilities[-1] is None


def test_dictionary_lookups_cost_one_query_together_per_request(registry):
    view = DjangoRegistryView()
    with CaptureQueriesContext(connection) as queries:
        results = [
            view.product_type_exists(1),
            view.product_type_exists(2),
            view.pipeline_exists(3),
            view.pipeline_exists(1),
        ]
        results += [view.product_type_exists(1), view.pipeline_exists(3)]
    assert results == [True, False, True, False, True, True]
    assert len(queries.captured_queries) == 1  # product types and pipelines in one UNION ALL (issue 13)


def test_inactive_product_type_does_not_exist(registry):
    make_product_type(2, "Gas condensate")
    ProductType.objects.filter(id=2).update(active=False)
    assert DjangoRegistryView().product_type_exists(2) is False


def test_a_second_message_reads_only_the_stamp_while_the_registry_is_unchanged(registry):
    first = DjangoRegistryView()
    first.prefetch(["407001", "407004"])
    assert first.product_type_exists(1)
    with CaptureQueriesContext(connection) as queries:
        second = DjangoRegistryView()
        second.prefetch(["407001", "407004"])
        assert second.facility("407001").devices["1"].allowed_operations == frozenset({3})
        assert second.product_type_exists(1) and second.pipeline_exists(3)
    assert [q["sql"] for q in queries if "registry_stamp" not in q["sql"]] == []


def test_every_change_the_rules_depend_on_is_seen_by_the_next_message(registry):
    """Bulk updates and many-to-many changes included (they send no save signal)."""
    from egsu.registry.models import Device, Facility, Pipeline

    DjangoRegistryView().prefetch(["407001"])
    Device.objects.get(facility__object_id="407001", device_id="1").allowed_operations.clear()
    assert DjangoRegistryView().facility("407001").devices["1"].allowed_operations == frozenset()
    ProductType.objects.filter(pk=1).update(active=False)
    Pipeline.objects.filter(pk=3).update(active=False)
    view = DjangoRegistryView()
    assert not view.product_type_exists(1) and not view.pipeline_exists(3)
    other = make_subject(bin="990240000111", name="Other")
    Facility.objects.filter(object_id="407001").update(subject=other)
    view = DjangoRegistryView()
    view.prefetch(["407001"])
    assert view.owners()["407001"] == other.pk
    assert view.facility("407001").subject_bin == "990240000111"
