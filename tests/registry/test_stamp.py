"""The registry's change stamp: every kind of write to a watched table changes it, others do not."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction

from egsu.access.models import Profile
from egsu.access.roles import Role
from egsu.points.models import MeteringPoint
from egsu.points.services import refresh_points
from egsu.registry.models import Device, Subject
from egsu.registry.stamp import registry_stamp
from tests.registry.factories import make_device, make_facility, make_subject, next_bin

pytestmark = pytest.mark.django_db


def _changes(write) -> bool:
    before = registry_stamp()
    write()
    return registry_stamp() != before


def test_orm_save_bulk_update_bulk_create_and_delete_change_the_stamp():
    subject = make_subject()
    assert _changes(lambda: Subject.objects.filter(pk=subject.pk).update(name="Renamed"))
    assert _changes(lambda: setattr(subject, "name", "Again") or subject.save())
    assert _changes(
        lambda: Subject.objects.bulk_create([Subject(bin=next_bin(), name=f"Bulk {n}") for n in range(3)])
    )
    assert _changes(lambda: Subject.objects.filter(name__startswith="Bulk").delete())


def test_a_point_moved_to_another_region_changes_the_stamp():
    device = make_device(make_facility("407001"), "1")
    refresh_points(devices=[device.pk])
    point = MeteringPoint.objects.get(device=device)
    assert _changes(lambda: MeteringPoint.objects.filter(pk=point.pk).update(region="Elsewhere"))
    assert _changes(lambda: Device.objects.filter(pk=device.pk).delete())  # and its point by cascade


def test_raw_sql_changes_the_stamp():
    subject = make_subject()

    def raw():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE registry_subject SET name = %s WHERE id = %s", ["Raw", subject.pk])

    assert _changes(raw)


def test_a_scope_change_changes_the_stamp_and_a_sign_in_does_not():
    user = get_user_model().objects.create_user("stamped", password="x")
    assert _changes(lambda: Profile.objects.create(user=user, role=Role.SUBJECT))
    assert _changes(lambda: user.profile.subjects.add(make_subject()))
    assert _changes(lambda: get_user_model().objects.filter(pk=user.pk).update(is_active=False))
    assert not _changes(
        lambda: get_user_model().objects.filter(pk=user.pk).update(last_login="2026-12-07T00:00Z")
    )


def test_unwatched_tables_leave_the_stamp():
    from egsu.access.models import LoginThrottle

    assert not _changes(lambda: LoginThrottle.objects.filter(pk=-1).update())


def test_a_rolled_back_change_never_brings_back_a_stamp_seen_during_it():
    before = registry_stamp()
    seen = None
    with pytest.raises(RuntimeError), transaction.atomic():
        make_subject()
        seen = registry_stamp()
        raise RuntimeError
    assert registry_stamp() == before
    make_subject()
    assert registry_stamp() not in (before, seen)


@pytest.mark.django_db(transaction=True)
def test_another_connection_sees_a_committed_change():
    """A write of another process (here another thread's own connection) changes the stamp read here."""
    before = registry_stamp()

    def other():
        try:
            make_subject()
        finally:
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert registry_stamp() != before
