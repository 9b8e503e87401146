"""MQTT per head-end credentials and ACL from the registry (issue 12 item 6; AMI head-end
authentication, INT-15..20, Rules ch. 9): the project's Mosquitto (`egsu mqtt broker`, own port,
own config) lets head-end A publish only into its own topic — its batch in B's topic is refused
and never delivered — and follows registry changes (a new head-end, a new token) by SIGHUP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.db import connections
from django.test import override_settings

from egsu.access.audit import Event
from egsu.ami import services
from egsu.ami.broker import password_hash
from egsu.ami.models import AmiBatch
from egsu.ami.mqtt import AmiConsumer, BrokerSettings, acks_topic, batches_topic, wait_until
from tests.ami.conftest import document, free_port, make_world, quarter_values

ROOT = Path(__file__).resolve().parents[2]
CONSUMER, CONSUMER_PASSWORD = "egsu-consumer", "consumer-secret-1"


def test_password_hashes_are_what_mosquitto_passwd_writes(tmp_path):
    done = subprocess.run(
        ["mosquitto_passwd", "-c", "-b", str(tmp_path / "pw"), "alice", "secret"],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("mosquitto_passwd is not installed")
    line = (tmp_path / "pw").read_text().strip()
    salt = line.split("$")[3]
    import base64

    assert line == "alice:" + password_hash("secret", salt=base64.b64decode(salt))


class Client:
    """An MQTT 5 client that records PUBACK reason codes and the messages it gets."""

    def __init__(self, port: int, client_id: str, username: str | None, password: str | None) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if username:
            self.client.username_pw_set(username, password)
        self.acks: dict[int, object] = {}
        self.messages: list[tuple[str, bytes]] = []
        self.connected = threading.Event()
        self.refused: object = None
        self.client.on_publish = lambda c, u, mid, reason, props: self.acks.__setitem__(mid, reason)
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload))
        self.client.on_connect = self._on_connect
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            self.refused = reason
        else:
            self.connected.set()

    def publish(self, topic: str, payload: dict):
        info = self.client.publish(topic, json.dumps(payload), qos=1)
        assert wait_until(lambda: info.mid in self.acks, 5), "no PUBACK"
        return self.acks[info.mid]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _database_url() -> str:
    settings = connections["default"].settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return "sqlite:///" + str(settings["NAME"])
    return (
        f"postgresql://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def _start_broker(folder: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "EGSU_DATABASE_URL": _database_url(),
        "EGSU_MQTT_USERNAME": CONSUMER,
        "EGSU_MQTT_PASSWORD": CONSUMER_PASSWORD,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "egsu.cli", "mqtt", "broker", "--dir", str(folder), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            assert process.poll() is None, "the broker exited"
            time.sleep(0.05)
    raise AssertionError("the broker did not start")


@pytest.mark.django_db(transaction=True)
def test_a_head_end_cannot_publish_into_another_ones_topic(tmp_path):
    if not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    folder, port = tmp_path / "broker", free_port()
    with override_settings(MQTT_ACL_DIR=str(folder), MQTT_USERNAME=CONSUMER, MQTT_PASSWORD=CONSUMER_PASSWORD):
        world = make_world(3)  # head-ends hes-a and hes-b, each with its token (= MQTT password)
        broker = _start_broker(folder, port)
        consumer = AmiConsumer(
            BrokerSettings(
                port=port,
                client_id="egsu-acl-test",
                username=CONSUMER,
                password=CONSUMER_PASSWORD,
                retry_delay_s=0.2,
            )
        )
        consumer.start()
        clients = []
        try:
            assert consumer.wait_connected(10)
            a = Client(port, "hes-a-client", world.head_end.mqtt_username, world.token)
            clients.append(a)
            assert a.connected.wait(5)
            a.client.subscribe(acks_topic("hes-a"), qos=1)
            a.client.subscribe(acks_topic("hes-b"), qos=1)  # not its own: refused by the ACL
            batch = document("acl-1", intervals=quarter_values(world.meters, quarters=1))
            # when head-end A publishes its batch into head-end B's topic
            refused = a.publish(batches_topic("hes-b"), batch)
            # then the broker refuses it and the consumer never sees it
            assert str(refused) == "Not authorized"
            # and its own topic works, the answer coming back on its own acks topic only
            assert not a.publish(batches_topic("hes-a"), batch).is_failure
            assert wait_until(lambda: any(t == acks_topic("hes-a") for t, _ in a.messages), 10)
            time.sleep(0.3)
            assert consumer.handled == 1
            assert list(AmiBatch.objects.values_list("head_end__name", flat=True)) == ["hes-a"]
            assert all(topic == acks_topic("hes-a") for topic, _ in a.messages)
            # and a wrong password or no credentials at all are refused
            for username, password in ((world.head_end.mqtt_username, "wrong"), (None, None)):
                stranger = Client(port, f"stranger-{password}", username, password)
                clients.append(stranger)
                assert wait_until(lambda s=stranger: s.refused is not None, 5)
            # when a head-end is added and A's token rotated, the broker follows at once (SIGHUP)
            _c, token_c = services.create_head_end("hes-c", world.other_subject)
            new_token = services.rotate_token(world.head_end, source="test")
            time.sleep(0.5)  # the broker re-reads its files on the signal
            c = Client(port, "hes-c-client", "hes-c", token_c)
            clients.append(c)
            assert c.connected.wait(5)
            assert c.publish(batches_topic("hes-a"), batch).is_failure  # C is confined to its own topics too
            old = Client(port, "hes-a-old", world.head_end.mqtt_username, world.token)
            clients.append(old)
            assert wait_until(lambda: old.refused is not None, 5)
            fresh = Client(port, "hes-a-new", world.head_end.mqtt_username, new_token)
            clients.append(fresh)
            assert fresh.connected.wait(5)
            # and the credential change is audited
            from egsu.access.models import AuditEvent

            assert AuditEvent.objects.filter(event=Event.HEAD_END_TOKEN_CHANGED).exists()
        finally:
            for client in clients:
                client.close()
            consumer.stop()
            broker.send_signal(signal.SIGTERM)
            broker.wait(timeout=10)
