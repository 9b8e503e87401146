"""MQTT intake: batches on egsu/ami/v1/<head-end>/batches, answers on egsu/ami/v1/<head-end>/acks.

Delivery rules (docs/ami-intake.md, shared/machine-limits.md, issue 13 item 2):
- MQTT 5, QoS 1, a shared subscription `$share/<group>/egsu/ami/v1/+/batches`: every consumer
  of the group (any number of processes, on any number of servers) gets a share of the batches;
- each consumer has a client id of its own that it keeps over restarts: `<prefix>-<host>-<slot>`,
  the slot being the lowest one on this host no running consumer holds (a lock file each), so a
  consumer restarted after a crash resumes the dead one's persistent session (session expiry
  `session_expiry_s`) and gets the batches the broker queued for it, unacknowledged ones first;
- manual acknowledgement: a message is acked to the broker only after its batch is committed
  (or refused for good); if storing fails we ack nothing more, drop the connection, and
  reconnect after a pause, and the broker delivers the unacked messages again;
- duplicate deliveries are harmless: the batch id makes the second one a replay, and values are
  stored exactly once whoever writes them (docs/decisions/0013-exactly-once-writes.md);
- the answer on /acks is the end-to-end acknowledgement a head-end waits for: a broker may
  lose what it had accepted (a crash between autosaves), so a head-end re-sends a batch it
  got no answer for, under the same batch id;
- optionally TLS (`tls_ca_file`, and a client certificate) and the consumer's own credentials.
"""

from __future__ import annotations

import fcntl
import json
import logging
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from django.db import close_old_connections
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from egsu.ami import intake, services, wire

log = logging.getLogger(__name__)

TOPIC_ROOT = "egsu/ami/v1"
BATCHES = TOPIC_ROOT + "/+/batches"
SHARE_GROUP = "egsu-ami"
MAX_SLOTS = 256


def shared(topic: str, group: str) -> str:
    """The shared-subscription filter of `topic` for the consumer group `group` (MQTT 5)."""
    return f"$share/{group}/{topic}"


def batches_topic(head_end: str) -> str:
    return f"{TOPIC_ROOT}/{head_end}/batches"


def acks_topic(head_end: str) -> str:
    return f"{TOPIC_ROOT}/{head_end}/acks"


@dataclass(frozen=True)
class BrokerSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str | None = None  # None: `<client_id_prefix>-<host>-<slot>` (see `take_slot`)
    client_id_prefix: str = "egsu-ami"
    group: str = SHARE_GROUP  # consumers of one group share the batches
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 60
    session_expiry_s: int = 7 * 24 * 3600  # how long the broker keeps a stopped consumer's queue
    retry_delay_s: float = 2.0  # pause before reconnecting after a failed store
    tls: bool = False
    tls_ca_file: str | None = None  # None with tls: the system's trusted roots
    tls_cert_file: str | None = None  # a client certificate, if the broker asks for one
    tls_key_file: str | None = None
    slot_dir: str | None = None  # where slot lock files live (default: the system's temp folder)


def take_slot(prefix: str, directory: str | None = None) -> tuple[str, object]:
    """A client id no running consumer on this host has, and the open lock that holds it.

    The lowest free slot is taken, so a consumer started after one died takes the dead one's id
    and with it its persistent session (the messages the broker kept for it).
    """
    folder = Path(directory or tempfile.gettempdir()) / "egsu-mqtt-slots"
    folder.mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().split(".")[0]
    for slot in range(1, MAX_SLOTS + 1):
        client_id = f"{prefix}-{host}-{slot}"
        handle = open(folder / f"{client_id}.lock", "w")  # noqa: SIM115 - held for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return client_id, handle
    raise RuntimeError(f"more than {MAX_SLOTS} MQTT consumers on this host")


class AmiConsumer:
    """Runs the subscription until `stop()`; `handled` counts messages acked (for tests and logs)."""

    def __init__(self, broker: BrokerSettings) -> None:
        self.broker = broker
        self.handled = 0
        self.failures = 0
        self._stop = threading.Event()
        self._broken = False  # after a failed store: nothing more is acked until we reconnect
        self._connected = threading.Event()
        self._slot = None
        client_id = broker.client_id
        if client_id is None:
            client_id, self._slot = take_slot(broker.client_id_prefix, broker.slot_dir)
        self.client_id = client_id
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self.client.tls_set(
                ca_certs=broker.tls_ca_file,
                certfile=broker.tls_cert_file,
                keyfile=broker.tls_key_file,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 10)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    # -- running -------------------------------------------------------------------------------

    def run(self) -> None:
        """Connect, consume, and reconnect after failures until stop() is called."""
        while not self._stop.is_set():
            try:
                properties = Properties(PacketTypes.CONNECT)
                properties.SessionExpiryInterval = self.broker.session_expiry_s
                self.client.connect(
                    self.broker.host,
                    self.broker.port,
                    self.broker.keepalive_s,
                    clean_start=False,
                    properties=properties,
                )
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
        # Subscribe again on every connection: Mosquitto 2.0.11 restores a shared subscription's queued
        # messages after a restart but routes nothing new to it until the consumer subscribes again.
        client.subscribe(shared(BATCHES, self.broker.group), qos=1)
        log.info("MQTT connected (session present: %s)", flags.session_present)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            log.warning("MQTT subscription refused: %s", reason_codes)
            return
        self._connected.set()  # connected and subscribed: batches published from now on reach us
        log.info("MQTT subscribed to %s", shared(BATCHES, self.broker.group))

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
