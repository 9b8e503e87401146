"""The intake's meters and channels kept per process under the registry stamp (egsu.ami.known):
every change to the registry, bulk writes included, is seen by the next batch (AMI-04: an inactive
meter's values are refused; MTR: a channel must be registered), and an unchanged registry is not
read again."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from egsu.ami import known, services
from egsu.ami.models import Channel, Meter
from tests.ami.conftest import DAY, document
from tests.ami.test_intake import send


def one_value(meter, batch_id: str, channel: str = "A+", quarter: int = 0) -> dict:
    start = DAY.replace(minute=15 * quarter).isoformat()
    return document(
        batch_id, intervals=[{"meter": meter.serial_number, "channel": channel, "start": start, "value": 1}]
    )


def refusal(answer) -> str | None:
    return answer.body["refused"][0]["code"] if answer.body["refused"] else None


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    monkeypatch.setattr(known, "KNOWN", known.Known())


@pytest.mark.django_db
def test_an_unchanged_registry_is_not_read_again(world):
    meter = world.meters[0]
    assert refusal(send(world, one_value(meter, "b1"))) is None
    # when a second batch names the same meter
    with CaptureQueriesContext(connection) as queries:
        assert refusal(send(world, one_value(meter, "b2", quarter=1))) is None
    # then only the stamp was read of the registry, not the meters or channels
    registry = [
        q["sql"] for q in queries if Meter._meta.db_table in q["sql"] or Channel._meta.db_table in q["sql"]
    ]
    assert registry == []
    assert any("registry_stamp" in q["sql"] for q in queries)


@pytest.mark.django_db
def test_a_meter_made_inactive_by_a_bulk_update_is_refused_at_the_next_batch(world):
    meter = world.meters[0]
    assert refusal(send(world, one_value(meter, "b1"))) is None
    Meter.objects.filter(pk=meter.pk).update(active=False)  # no signal, no save()
    assert refusal(send(world, one_value(meter, "b2", quarter=1))) == "inactive-meter"


@pytest.mark.django_db
def test_a_meter_registered_in_bulk_after_a_refusal_is_accepted(world):
    ghost = Meter(
        subject=world.subject, metering_object=world.obj, energy="electricity", meter_type="1P", model="M1",
        serial_number="E9999999",
    )  # fmt: skip
    assert refusal(send(world, one_value(ghost, "b1"))) == "unknown-meter"  # kept as unknown
    services.register_meters([ghost], ("A+",), validate=False)  # bulk_create
    assert refusal(send(world, one_value(ghost, "b2"))) is None


@pytest.mark.django_db
def test_a_deleted_channel_is_refused_and_a_meter_moved_to_another_subject_is_unknown(world):
    first, second = world.meters[:2]
    assert refusal(send(world, one_value(first, "b1", channel="R+"))) is None
    Channel.objects.filter(meter=first, code="R+").delete()
    assert refusal(send(world, one_value(first, "b2", channel="R+", quarter=1))) == "unknown-channel"
    assert refusal(send(world, one_value(second, "b3"))) is None
    Meter.objects.filter(pk=second.pk).update(subject=world.other_subject)
    assert refusal(send(world, one_value(second, "b4", quarter=1))) == "unknown-meter"


@pytest.mark.django_db
def test_the_cache_starts_afresh_past_its_limit(world, monkeypatch):
    monkeypatch.setattr(known, "LIMIT", 1)
    cache = known.Known()
    meters, _channels = cache.lookup(world.subject.pk, {m.serial_number for m in world.meters})
    assert len(meters) == 3
    meters, _channels = cache.lookup(world.subject.pk, {world.meters[0].serial_number})
    assert list(meters) == [world.meters[0].serial_number]
    assert len(cache._stamped.current().meters) == 1  # the three were dropped, the one read again
