"""AMI test world: a utility with head-ends and bulk-registered meters, and a Mosquitto of our own."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from _pytest.outcomes import Skipped
from django.test.utils import override_settings

from egsu.ami import intake as _intake
from egsu.readings.services import _store
from egsu.readings.services import get_store as _get_store
from egsu_core.clock import ASTANA
from tests.readings import store_backends

DAY = datetime(2025, 6, 2, tzinfo=ASTANA)  # a past Monday: every period in it has ended
ELECTRICITY_CHANNELS = ("A+", "A-", "R+", "R-")


@dataclass
class World:
    subject: object
    other_subject: object
    head_end: object
    token: str
    other_head_end: object
    other_token: str
    meters: list
    obj: object


def make_world(meter_count: int, *, channels=ELECTRICITY_CHANNELS) -> World:
    from egsu.ami import services
    from egsu.ami.models import Meter, MeteringObject
    from tests.registry.factories import make_subject

    subject, other = make_subject(name="Utility"), make_subject(name="Other utility")
    head_end, token = services.create_head_end("hes-a", subject)
    other_head_end, other_token = services.create_head_end("hes-b", other)
    obj = MeteringObject.objects.create(code="TP-1", kind="transformer_point", name="TP 1", region="Astana")
    meters = services.register_meters(
        [
            Meter(
                subject=subject, metering_object=obj, energy="electricity", meter_type="1P", model="M1",
                serial_number=f"E{n:07d}", verified_on=date(2024, 1, 1), verification_due=date(2032, 1, 1),
            )
            for n in range(meter_count)
        ],
        channels,
        validate=meter_count <= 100,
    )  # fmt: skip
    return World(subject, other, head_end, token, other_head_end, other_token, meters, obj)


def quarter_values(
    meters, channels=ELECTRICITY_CHANNELS, quarters: int = 4, day: datetime = DAY
) -> list[dict]:
    """One value per meter, channel and quarter hour; value = a small deterministic number."""
    items = []
    for q in range(quarters):
        start = (day + timedelta(minutes=15 * q)).isoformat()
        for meter in meters:
            for c, channel in enumerate(channels):
                items.append(
                    {
                        "meter": meter.serial_number,
                        "channel": channel,
                        "start": start,
                        "value": str(_value(meter.pk, c, q)),
                    }
                )
    return items


def _value(pk: int, channel: int, quarter: int) -> Decimal:
    return Decimal(pk % 97 + channel + quarter) / Decimal(4)


def expected_totals(meters, channels=ELECTRICITY_CHANNELS, quarters: int = 4) -> dict[str, Decimal]:
    return {
        channel: sum((_value(m.pk, c, q) for m in meters for q in range(quarters)), Decimal(0))
        for c, channel in enumerate(channels)
    }


def document(batch_id: str, **sections) -> dict:
    return {"format": "ami/1", "batchId": batch_id, **sections}


@pytest.fixture
def world(db):
    return make_world(3)


# -- Mosquitto ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Broker:
    """A mosquitto of the test's own on a free port, with persistence in a temporary folder."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.config = folder / "mosquitto.conf"
        # Without max_queued_messages Mosquitto drops QoS 1 beyond 1,000 queued per client
        # (shared/machine-limits.md); persistence keeps sessions and queues over a restart.
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "user root\n"  # as root, mosquitto would switch to its own user and could not write here
            "persistence true\n"
            f"persistence_location {folder}/\n"
            "autosave_interval 1\n"
            "max_queued_messages 1000000\n"
            "max_inflight_messages 100\n"
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # saves its persistence file on the way out
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def kill(self) -> None:
        """SIGKILL: a crash; what arrived since the last autosave (autosave_interval 1) is lost with it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def broker(tmp_path):
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    broker = Broker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def clickhouse(monkeypatch):
    """The ClickHouse readings backend on a fresh database: a server if one starts, else chDB."""
    database = f"egsu_ami_{uuid.uuid4().hex[:12]}"
    try:
        server = store_backends._server_url()
    except Skipped as reason:
        pytest.importorskip("chdb", reason=f"no ClickHouse server ({reason}) and chDB is not installed")
        from egsu.readings.backends.clickhouse import ClickHouseReadingsStore

        store = ClickHouseReadingsStore(store_backends._chdb(), database=database)
        monkeypatch.setattr(_intake, "get_store", lambda: store)
        try:
            yield store
        finally:
            store_backends.drop_database(store)
        return
    url = f"{server.rsplit('/', 1)[0]}/{database}"
    with override_settings(READINGS_BACKEND="clickhouse", CLICKHOUSE_URL=url):
        _store.cache_clear()
        store = _get_store()
        try:
            yield store
        finally:
            store_backends.drop_database(store)
            _store.cache_clear()
