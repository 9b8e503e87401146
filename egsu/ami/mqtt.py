"""MQTT intake: batches on egsu/ami/v1/<head-end>/batches, answers on egsu/ami/v1/<head-end>/acks.

Delivery rules (docs/ami-intake.md, shared/machine-limits.md):
- QoS 1, a persistent session (clean_session False, a fixed client id), so that the broker keeps
  our subscription and every unacknowledged message while we are away or restarting;
- manual acknowledgement: a message is acked to the broker only after its batch is committed
  (or refused for good); if storing fails we ack nothing more, drop the connection, and
  reconnect after a pause, and the broker delivers the unacked messages again;
- duplicate deliveries are harmless: the batch id makes the second one a replay;
- the answer on /acks is the end-to-end acknowledgement a head-end waits for: a broker may
  lose what it had accepted (a crash between autosaves), so a head-end re-sends a batch it
  got no answer for, under the same batch id.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import zlib
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from django.db import close_old_connections

from egsu.ami import intake, services, wire

log = logging.getLogger(__name__)

TOPIC_ROOT = "egsu/ami/v1"
BATCHES = TOPIC_ROOT + "/+/batches"


def batches_topic(head_end: str) -> str:
    return f"{TOPIC_ROOT}/{head_end}/batches"


def acks_topic(head_end: str) -> str:
    return f"{TOPIC_ROOT}/{head_end}/acks"


@dataclass(frozen=True)
class BrokerSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "egsu-ami-intake"
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 60
    retry_delay_s: float = 2.0  # pause before reconnecting after a failed store
    # One of several consumers: "I/N" takes the head-ends whose name hashes to I of N (crc32), so that
    # each head-end's batches have one writer (decision 0006: ClickHouse has no unique key). The topics
    # are listed at each connection: a new head-end is picked up when the consumer reconnects.
    member: str = ""


def my_head_end(name: str, member: str) -> bool:
    """Whether head-end `name` belongs to consumer `member` ("I/N", 1 ≤ I ≤ N); every one when empty."""
    if not member:
        return True
    index, _, count = member.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise ValueError(f"a consumer member is I/N with 1 ≤ I ≤ N, got {member!r}")
    return zlib.crc32(name.encode()) % int(count) == int(index) - 1


class AmiConsumer:
    """Runs the subscription until `stop()`; `handled` counts messages acked (for tests and logs)."""

    def __init__(self, broker: BrokerSettings) -> None:
        self.broker = broker
        self.handled = 0
        self.failures = 0
        self._stop = threading.Event()
        self._broken = False  # after a failed store: nothing more is acked until we reconnect
        self._connected = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=broker.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 10)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    # -- running -------------------------------------------------------------------------------

    def run(self) -> None:
        """Connect, consume, and reconnect after failures until stop() is called."""
        while not self._stop.is_set():
            try:
                self.client.connect(self.broker.host, self.broker.port, self.broker.keepalive_s)
            except OSError as exc:
                log.warning("MQTT broker %s:%s unreachable: %s", self.broker.host, self.broker.port, exc)
                self._stop.wait(self.broker.retry_delay_s)
                continue
            self._broken = False
            self.client.loop_forever(retry_first_connection=False)
            self._connected.clear()
            if not self._stop.is_set():
                self._stop.wait(self.broker.retry_delay_s)
        close_old_connections()

    def start(self) -> threading.Thread:
        """run() in a daemon thread (tests, the benchmark)."""
        thread = threading.Thread(target=self.run, name="ami-mqtt", daemon=True)
        thread.start()
        return thread

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self._connected.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self.client.disconnect()

    # -- callbacks (paho's network thread) -----------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT connection refused: %s", reason_code)
            return
        for topic in self._topics():
            client.subscribe(topic, qos=1)
        self._connected.set()
        log.info("MQTT connected (session present: %s)", flags.session_present)

    def _topics(self) -> list[str]:
        if not self.broker.member:
            return [BATCHES]
        from egsu.ami.models import HeadEndSystem

        close_old_connections()
        names = HeadEndSystem.objects.filter(active=True).values_list("name", flat=True)
        return [batches_topic(name) for name in sorted(names) if my_head_end(name, self.broker.member)]

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            log.info("MQTT disconnected: %s", reason_code)

    def _on_message(self, client, userdata, message) -> None:
        if self._broken:
            return  # delivered again after the reconnect
        close_old_connections()
        try:
            answer_topic, answer = self.handle(message.topic, message.payload)
        except Exception:
            # Storage (or anything else) failed: ack nothing, reconnect later, get it again.
            log.exception("AMI batch on %s not stored; it will be delivered again", message.topic)
            self.failures += 1
            self._broken = True
            client.disconnect()
            return
        if answer_topic is not None:
            client.publish(answer_topic, json.dumps(answer, ensure_ascii=False), qos=1)
        client.ack(message.mid, message.qos)
        self.handled += 1

    def handle(self, topic: str, payload: bytes) -> tuple[str | None, dict | None]:
        """Store one message's batch; (answer topic, answer), or (None, None) for a foreign topic.

        Raises when the batch could not be stored (the message must then stay unacked).
        """
        parts = topic.split("/")
        if len(parts) != 5 or "/".join(parts[:3]) != TOPIC_ROOT or parts[4] != "batches":
            log.warning("ignored a message on %s", topic)
            return None, None
        head_end = services.head_end_by_name(parts[3])
        if head_end is None:
            log.warning("ignored a batch from unknown or inactive head-end %r", parts[3])
            return None, None
        try:
            batch = wire.parse_json(payload)
        except wire.DocumentError as exc:
            return acks_topic(head_end.name), intake.document_error_answer(None, exc).body
        answer = intake.receive(head_end, batch, transport="mqtt")
        return acks_topic(head_end.name), answer.body


def wait_until(predicate, timeout: float, step: float = 0.05) -> bool:
    """Poll a condition (tests and the benchmark wait on the consumer with it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
