"""The MQTT path through a real Mosquitto: thousands of meters, duplicates, broker restarts, outages."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import paho.mqtt.client as mqtt
import pytest

from egsu.ami import intake
from egsu.ami.models import AmiBatch
from egsu.ami.mqtt import AmiConsumer, BrokerSettings, acks_topic, batches_topic, wait_until
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery, StoreUnavailableError
from tests.ami.conftest import DAY, document, expected_totals, make_world, quarter_values


class HeadEnd:
    """A head-end's side: publishes batches at QoS 1 (a bounded window) and collects our answers."""

    def __init__(self, port: int, name: str) -> None:
        self.name = name
        self.answers: list[dict] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"{name}-head-end", clean_session=True
        )
        self.client.on_message = self._on_message
        self.client.max_inflight_messages_set(20)  # never near paho's 65,535 message ids
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(acks_topic(name), qos=1)
        self.client.loop_start()

    def _on_message(self, client, userdata, message) -> None:
        with self._lock:
            self.answers.append(json.loads(message.payload))

    def publish(self, documents: list[dict]) -> None:
        infos = [self.client.publish(batches_topic(self.name), json.dumps(doc), qos=1) for doc in documents]
        for info in infos:
            info.wait_for_publish(timeout=30)  # the broker has it (PUBACK)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _consumer(broker, **overrides) -> AmiConsumer:
    consumer = AmiConsumer(
        BrokerSettings(port=broker.port, client_id="egsu-ami-test", retry_delay_s=0.2, **overrides)
    )
    consumer.start()
    assert consumer.wait_connected(10)
    return consumer


def _batches(world, size: int = 2000, prefix: str = "m") -> list[dict]:
    items = quarter_values(world.meters)
    return [
        document(f"{prefix}-{n}", intervals=items[i : i + size])
        for n, i in enumerate(range(0, len(items), size))
    ]


def _stored_batches() -> int:
    return AmiBatch.objects.count()


@pytest.mark.django_db(transaction=True)
def test_thousands_of_meters_over_mqtt_with_every_message_delivered_twice(broker):
    # given 2,000 meters × 4 channels × 4 quarter hours in 16 messages, each published twice
    world = make_world(2000)
    documents = _batches(world)
    consumer = _consumer(broker)
    head_end = HeadEnd(broker.port, "hes-a")
    try:
        # when they go through the broker
        head_end.publish(documents + documents)
        # then every message is answered, each batch stored once, and the totals read back
        assert wait_until(lambda: consumer.handled == 32, 120), consumer.handled
        assert wait_until(lambda: len(head_end.answers) == 32, 10)
    finally:
        head_end.close()
        consumer.stop()
    assert _stored_batches() == 16
    # a duplicate gets the first answer again, word for word
    by_id = {a["batchId"]: a for a in head_end.answers}
    assert sorted(head_end.answers, key=lambda a: a["batchId"]) == sorted(
        [*by_id.values()] * 2, key=lambda a: a["batchId"]
    )
    assert sum(a["values"]["new"] for a in by_id.values()) == 32_000
    assert get_store().count(ReadingQuery()) == 32_000
    assert get_store().totals(ReadingQuery()) == expected_totals(world.meters)


@pytest.mark.django_db(transaction=True)
def test_broker_restarts_lose_nothing_the_broker_acknowledged(broker):
    # given a consumer whose persistent session exists, and which then goes away
    world = make_world(500)
    documents = _batches(world, size=500, prefix="r")  # 16 batches of 500 values
    consumer = _consumer(broker)
    consumer.stop()
    # when half the batches are published while it is away, and the broker restarts
    head_end = HeadEnd(broker.port, "hes-a")
    head_end.publish(documents[:8])
    head_end.close()
    broker.restart()
    # and the consumer comes back, the rest is published, and the broker restarts under it
    consumer = _consumer(broker)
    head_end = HeadEnd(broker.port, "hes-a")
    try:
        head_end.publish(documents[8:])
        assert wait_until(lambda: _stored_batches() >= 10, 60)
        head_end.close()
        broker.restart()
        head_end = HeadEnd(broker.port, "hes-a")
        # then every batch the broker acknowledged to the head-end is stored, once
        assert wait_until(lambda: _stored_batches() == 16, 60), _stored_batches()
    finally:
        head_end.close()
        consumer.stop()
    assert get_store().count(ReadingQuery()) == 8000
    assert get_store().totals(ReadingQuery()) == expected_totals(world.meters)


@pytest.mark.django_db(transaction=True)
def test_a_storage_outage_leaves_the_batch_unacked_and_it_arrives_later(broker, monkeypatch):
    # given a store that fails its first three writes
    world = make_world(100)
    documents = _batches(world, size=400, prefix="o")  # 4 batches
    real = get_store()
    failures = {"left": 3}

    class FlakyStore:
        def write(self, rows):
            if failures["left"] > 0:
                failures["left"] -= 1
                raise StoreUnavailableError("store down")
            return real.write(rows)

    monkeypatch.setattr(intake, "get_store", lambda: FlakyStore())
    consumer = _consumer(broker)
    head_end = HeadEnd(broker.port, "hes-a")
    try:
        # when the batches are published during the outage
        head_end.publish(documents)
        # then nothing is acked while storing fails; the broker delivers again and all arrive
        assert wait_until(lambda: _stored_batches() == 4, 60), _stored_batches()
        assert wait_until(lambda: len({a["batchId"] for a in head_end.answers}) == 4, 10)
    finally:
        head_end.close()
        consumer.stop()
    assert consumer.failures == 3
    assert get_store().count(ReadingQuery()) == 1600
    assert get_store().totals(ReadingQuery()) == expected_totals(world.meters)


@pytest.mark.django_db(transaction=True)
def test_a_malformed_message_is_answered_and_not_redelivered(broker):
    make_world(1)
    consumer = _consumer(broker)
    head_end = HeadEnd(broker.port, "hes-a")
    try:
        head_end.client.publish(batches_topic("hes-a"), b"{oops", qos=1).wait_for_publish(10)
        assert wait_until(lambda: len(head_end.answers) == 1, 20)
    finally:
        head_end.close()
        consumer.stop()
    assert head_end.answers[0]["code"] == "not-json"
    assert consumer.handled == 1


@pytest.mark.django_db(transaction=True)
def test_mqtt_into_the_clickhouse_backend_gives_the_same_totals(broker, clickhouse):
    # given the national-scale backend (issue 7): 2,000 meters' quarter hours through the broker
    world = make_world(2000)
    documents = _batches(world, prefix="ch")
    consumer = _consumer(broker)
    head_end = HeadEnd(broker.port, "hes-a")
    try:
        head_end.publish(documents)
        assert wait_until(lambda: consumer.handled == len(documents), 120), consumer.handled
    finally:
        head_end.close()
        consumer.stop()
    # then ClickHouse holds exactly what was sent, with the totals the SQL backend gives in the test above
    assert clickhouse.count(ReadingQuery()) == 32_000
    assert clickhouse.totals(ReadingQuery()) == expected_totals(world.meters)


@pytest.mark.django_db(transaction=True)
def test_estimated_values_over_mqtt_are_stored_as_estimated_then_replaced(broker):
    # given a head-end that first substitutes a quarter hour, then sends the measured value
    world = make_world(1)
    item = {"meter": world.meters[0].serial_number, "channel": "A+", "start": DAY.isoformat(), "value": "2.5"}
    consumer = _consumer(broker)
    head_end = HeadEnd(broker.port, "hes-a")
    try:
        head_end.publish([document("mq-est", intervals=[item | {"quality": "estimated"}])])
        assert wait_until(lambda: len(head_end.answers) == 1, 20)
        [estimate] = list(get_store().latest(ReadingQuery()))
        head_end.publish([document("mq-good", intervals=[item])])
        assert wait_until(lambda: len(head_end.answers) == 2, 20)
    finally:
        head_end.close()
        consumer.stop()
    # then the answers say new, then revised, and the store shows the estimate replaced (AMI-16)
    assert [a["values"] for a in head_end.answers] == [
        {"new": 1, "duplicate": 0, "revised": 0},
        {"new": 0, "duplicate": 0, "revised": 1},
    ]
    assert (estimate.quality, estimate.revision) == ("estimated", 1)
    [measured] = list(get_store().latest(ReadingQuery()))
    assert (measured.quality, measured.revision, measured.value) == ("good", 2, Decimal("2.5"))
