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


@pytest.fixture
def clickhouse_values(settings, tmp_path):
    """Readings in ClickHouse (a fresh database on the loopback server) as the System's store."""
    import uuid

    from egsu.readings import services
    from tests.readings import store_backends

    server = store_backends._server_url()  # skips loudly when no server can be started
    settings.READINGS_BACKEND = "clickhouse"
    settings.CLICKHOUSE_URL = f"{server.rsplit('/', 1)[0]}/egsu_admin_{uuid.uuid4().hex[:10]}"
    settings.READINGS_CLAIMS_URL = f"sqlite:///{tmp_path}/claims.sqlite3"
    services._store.cache_clear()
    store = services.get_store()
    store.write([make_row(f"{n}.5", object_id=f"4070{n:02d}", commercial=n == 1) for n in range(12)])
    store.write([make_row("2.75", object_id="407002")])  # a second revision: only it is listed
    try:
        yield store
    finally:
        store_backends.drop_database(store)
        services._store.cache_clear()


def test_on_clickhouse_the_list_reads_the_readings_store(admin_client, clickhouse_values, monkeypatch):
    from egsu.readings.admin import ReadingAdmin

    monkeypatch.setattr(ReadingAdmin, "list_per_page", 10)
    url = reverse("admin:readings_reading_changelist")
    assert Reading.objects.count() == 0  # nothing in the SQL table: the values are in ClickHouse
    # when an operator opens the list, filtered by an object
    response = admin_client.get(url, {"object": "407002"})
    assert response.status_code == 200
    body = response.content.decode()
    # then its newest revision is shown, period start in Astana time
    assert [cells[0] for cells in response.context["rows"]] == ["407002"]
    assert response.context["rows"][0][5:10] == ["2.75", "t", "good", False, 2]
    assert "2024-01-11T00:00:00.000+06:00" in body and "ClickHouse" in body
    # pages of 10: the second has the last two objects, and a way back
    second = admin_client.get(url, {"p": "1"})
    assert [cells[0] for cells in second.context["rows"]] == ["407010", "407011"]
    assert second.context["previous_query"] == "p=0" and not second.context["next_query"]
    first = admin_client.get(url)
    assert len(first.context["rows"]) == 10 and first.context["next_query"] == "p=1"
    assert admin_client.get(url, {"interval": "PT2H"}).context["rows"] == []
    assert "?device=1&amp;p=1" in admin_client.get(url, {"device": "1"}).content.decode()


def test_on_clickhouse_the_list_is_refused_to_a_user_without_the_view_permission(client, clickhouse_values):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("clerk", password="pw-clerk-1", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:readings_reading_changelist")).status_code in {302, 403}
