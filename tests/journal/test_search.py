"""Search by sender, message id, direction, status, time and text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from egsu.journal import services
from egsu.journal.models import Direction
from tests.journal.factories import make_entry

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 5, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def entries():
    make_entry(T0, message_id="a-1", sender_id="oilco", status_code="SCSS001")
    make_entry(T0 + timedelta(hours=1), message_id="a-2", sender_id="oilco", status_code="SCE002")
    make_entry(T0 + timedelta(hours=2), message_id="b-1", sender_id="gasco", status_code="SCSS001")
    make_entry(
        T0 + timedelta(hours=3),
        message_id="ans-1",
        sender_id="EGSU",
        direction=Direction.OUT,
        addressee="gasco",
        correlation_id="b-1",
        status_code="SCSS001",
    )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({}, ["ans-1", "b-1", "a-2", "a-1"], id="all-newest-first"),
        pytest.param({"sender_id": "oilco"}, ["a-2", "a-1"], id="sender"),
        pytest.param({"message_id": "b-1"}, ["b-1"], id="message-id"),
        pytest.param({"direction": "OUT"}, ["ans-1"], id="direction"),
        pytest.param({"status_code": "SCE002"}, ["a-2"], id="status"),
        pytest.param({"since": T0 + timedelta(hours=1)}, ["ans-1", "b-1", "a-2"], id="since-inclusive"),
        pytest.param({"until": T0 + timedelta(hours=1)}, ["a-1"], id="until-exclusive"),
        pytest.param({"text": "b-1"}, ["ans-1", "b-1"], id="text-matches-correlation-id"),
        pytest.param({"text": "GASCO"}, ["ans-1", "b-1"], id="text-any-case"),
        pytest.param({"limit": 2}, ["ans-1", "b-1"], id="limit"),
        pytest.param({"sender_id": "oilco", "status_code": "SCSS001"}, ["a-1"], id="combined"),
    ],
)
def test_search(entries, filters, expected):
    assert [e.message_id for e in services.search(**filters)] == expected


def test_search_does_not_load_the_raw_bytes(entries):
    (entry,) = services.search(message_id="a-1")
    assert "raw" in entry.get_deferred_fields()
