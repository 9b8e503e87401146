"""The read-only Reading admin: filters, Astana times, no editing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from egsu.readings.models import Reading
from tests.readings.factories import make_row

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def stored(store):
    store.write(
        [
            make_row("80.46875", object_id="407001", commercial=True),
            make_row("75.66756", object_id="407004", device_id="2"),
        ]
    )


def test_changelist_filters_by_object_text_box(admin_client, stored):
    # when an operator types an object id into the filter box
    response = admin_client.get(reverse("admin:readings_reading_changelist"), {"object": "407004"})
    # then only that object's values are listed, period start shown in Astana time (UTC+6 in January 2024)
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert [r.object_id for r in rows] == ["407004"]
    body = response.content.decode()
    assert "2024-01-11T00:00:00.000+06:00" in body
    assert 'name="object" value="407004"' in body


@pytest.mark.parametrize(
    ("params", "objects"),
    [
        pytest.param({"device": "2"}, ["407004"], id="device"),
        pytest.param({"commercial__exact": "1"}, ["407001"], id="commercial"),
        pytest.param({"quantity": "mass"}, ["407001", "407004"], id="quantity"),
        pytest.param({"interval": "PT2H"}, [], id="interval"),
    ],
)
def test_changelist_filters(admin_client, stored, params, objects):
    response = admin_client.get(reverse("admin:readings_reading_changelist"), params)
    assert response.status_code == 200
    assert sorted(r.object_id for r in response.context["cl"].result_list) == objects


def test_detail_is_read_only_and_nothing_can_be_added_or_deleted(admin_client, stored):
    reading = Reading.objects.get(object_id="407001")
    detail = admin_client.get(reverse("admin:readings_reading_change", args=[reading.pk]))
    assert detail.status_code == 200
    assert b'name="value"' not in detail.content  # shown, not editable
    assert b"80.46875<" in detail.content
    assert b"2024-01-11T00:00:00.000+06:00" in detail.content
    assert admin_client.get(reverse("admin:readings_reading_add")).status_code == 403
    assert admin_client.post(reverse("admin:readings_reading_delete", args=[reading.pk])).status_code == 403
    assert Reading.objects.count() == 2
