"""Registry models: database constraints and clean() rules."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from egsu.registry.models import ConnectedSystem, Device, Facility, Subject
from tests.registry.factories import (
    make_device,
    make_facility,
    make_pipeline,
    make_subject,
    make_system,
    next_bin,
)

pytestmark = pytest.mark.django_db


def test_same_device_id_on_two_facilities_is_allowed():
    # given flow meter "1" on one object / when another object also has a "1" / then both exist
    make_device(make_facility("407001"), "1")
    make_device(make_facility("407002"), "1")
    assert Device.objects.filter(device_id="1").count() == 2


def test_device_id_is_unique_per_facility():
    facility = make_facility("407001")
    make_device(facility, "1")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_device(facility, "1")


def test_bin_is_unique():
    bin_ = next_bin()
    make_subject(bin=bin_)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_subject(bin=bin_)


def test_object_id_is_unique():
    make_facility("407001")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_facility("407001")


def test_database_refuses_an_unknown_kind():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_facility("407001", kind="2.0")


def test_database_refuses_a_short_bin():
    with pytest.raises(IntegrityError), transaction.atomic():
        Subject.objects.create(bin="123", name="Short")


def test_database_refuses_removal_before_installation():
    facility = make_facility("407001")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_device(facility, "1", installed_at=date(2024, 5, 2), removed_at=date(2024, 5, 1))


def test_database_refuses_an_unknown_contour():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_system(contour="staging")


def test_subject_with_a_bad_check_digit_fails_validation():
    subject = Subject(bin="020240000556", name="Typo LLP")
    with pytest.raises(ValidationError) as caught:
        subject.full_clean()
    assert caught.value.message_dict == {
        "bin": ["020240000556 fails the BIN check digit (the 12th digit should be 5)"]
    }


@pytest.mark.parametrize(
    ("kind", "device_type_id", "pipeline", "errors"),
    [
        pytest.param("1.3", 2, True, {}, id="oil-delivery-with-pipeline"),
        pytest.param("1.8", 11, False, {}, id="gas-delivery"),
        pytest.param(
            "1.8",
            2,
            False,
            {"device_type": ["device type 2 is not allowed on a facility of kind 1.8 (use 10, 11)"]},
            id="oil-type-on-gas",
        ),
        pytest.param(
            "1.1",
            10,
            False,
            {"device_type": ["device type 10 is not allowed on a facility of kind 1.1 (use 1, 2)"]},
            id="gas-type-on-oil",
        ),
        pytest.param(
            "1.2",
            1,
            True,
            {"pipeline": ["a pipeline only applies to facilities of kind 1.3, not 1.2"]},
            id="pipeline-on-tank",
        ),
    ],
)
def test_device_clean_checks_type_and_pipeline_against_kind(kind, device_type_id, pipeline, errors):
    device = Device(
        facility=make_facility(kind=kind),
        device_id="1",
        device_type_id=device_type_id,
        pipeline=make_pipeline() if pipeline else None,
    )
    if not errors:
        device.full_clean()
        return
    with pytest.raises(ValidationError) as caught:
        device.full_clean()
    assert caught.value.message_dict == errors


def test_device_clean_checks_stored_operations_against_kind():
    # given a saved tank (1.2) that was allowed operation 3 (a 1.3 code) behind the rules' back
    device = make_device(make_facility(kind="1.2"), "2", device_type_id=1, operations=[3])
    with pytest.raises(ValidationError) as caught:
        device.full_clean()
    assert caught.value.message_dict == {
        "allowed_operations": ["operation type(s) 3 not allowed on a facility of kind 1.2 (allowed: 7)"]
    }


def test_password_is_hashed_never_stored():
    system = make_system(password="clear-Text-123")
    stored = ConnectedSystem.objects.get(pk=system.pk)
    assert "clear-Text-123" not in stored.password_hash
    assert stored.password_hash.startswith("pbkdf2_sha256$")
    assert stored.check_password("clear-Text-123") is True
    assert stored.check_password("clear-text-123") is False
    assert stored.check_password(None) is False


def test_str_of_each_model():
    subject = make_subject(bin="020240000555", name="KazMunayGas", short_name="KMG")
    facility = make_facility("407001", subject=subject, name="SIKN")
    device = make_device(facility, "1")
    system = make_system("kmg-isun", subject=subject)
    assert [str(subject), str(facility), str(device), str(system)] == [
        "KMG (020240000555)",
        "407001 SIKN (1.3)",
        "407001/1",
        "kmg-isun",
    ]
    assert Facility._meta.verbose_name == "facility"
