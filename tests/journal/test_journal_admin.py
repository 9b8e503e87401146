"""The read-only journal admin: search, filters, the message with passwords masked."""

from __future__ import annotations

import zlib

import pytest
from django.urls import reverse

from egsu.journal import services
from egsu.journal.models import JournalEntry
from tests.journal.conftest import SAMPLE

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def entry():
    entry, _ = services.record_incoming(
        message_id="m-1", sender_id="oilco", service_id="ISUN_Service2", raw=SAMPLE
    )
    services.record_outgoing(
        request=entry,
        message_id="a-1",
        addressee="oilco",
        raw=b"<ok/>",
        status_code="SCSS001",
        status_message="OK",
    )
    return entry


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"q": "m-1"}, ["m-1", "a-1"], id="search-message-id-and-correlation-id"),
        pytest.param({"q": "oilco"}, ["m-1"], id="search-sender"),
        pytest.param({"direction__exact": "OUT"}, ["a-1"], id="filter-direction"),
        pytest.param({"status_code": "SCSS001"}, ["a-1"], id="filter-status"),
        pytest.param({"service_id": "ISUN_Service2"}, ["a-1", "m-1"], id="filter-service"),
    ],
)
def test_changelist_search_and_filters(admin_client, entry, params, expected):
    response = admin_client.get(reverse("admin:journal_journalentry_changelist"), params)
    assert response.status_code == 200
    assert sorted(e.message_id for e in response.context["cl"].result_list) == sorted(expected)


def test_detail_shows_the_message_escaped_with_the_password_masked(admin_client, entry):
    response = admin_client.get(reverse("admin:journal_journalentry_change", args=[entry.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "&lt;password&gt;***&lt;/password&gt;" in body
    assert "s3cret" not in body
    assert "&lt;senderId&gt;oilco&lt;/senderId&gt;" in body  # escaped XML, in a <pre>
    assert "<pre" in body
    assert 'alt="True"' in body  # the checksum verifies
    # the stored bytes keep the password, for the checksum
    assert b"<password>s3cret&lt;pw</password>" in services.raw_bytes(entry)


def test_detail_shows_a_failing_checksum(admin_client, entry):
    JournalEntry.objects.filter(pk=entry.pk).update(raw=zlib.compress(b"<other/>"))
    response = admin_client.get(reverse("admin:journal_journalentry_change", args=[entry.pk]))
    assert 'alt="False"' in response.content.decode()


def test_nothing_can_be_added_changed_or_deleted(admin_client, entry):
    assert admin_client.get(reverse("admin:journal_journalentry_add")).status_code == 403
    assert admin_client.post(reverse("admin:journal_journalentry_delete", args=[entry.pk])).status_code == 403
    response = admin_client.post(
        reverse("admin:journal_journalentry_change", args=[entry.pk]), {"status_code": "HACKED"}
    )
    assert response.status_code == 403
    assert JournalEntry.objects.get(pk=entry.pk).status_code == ""
