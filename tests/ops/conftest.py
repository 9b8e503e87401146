"""The operations tests' world: the demo registry (ISUN) and a utility with meters (AMI), and one
helper that pushes data through both feeds the way senders do (the gateway endpoint, the AMI REST API)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client

from egsu_core.pki.sendmessage import signed_send_message
from tests.ami.conftest import document, expected_totals, make_world, quarter_values
from tests.intake.conftest import DEMO_PASSWORD, device_record, events, new_message_id, recent_two_hour_slot
from tests.intake.conftest import identity as identity  # noqa: F401 - fixtures used by the tests here
from tests.intake.conftest import stand as stand  # noqa: F401

AMI_URL = "/api/ami/v1/batches"


@dataclass
class Pushed:
    isun_codes: list[str]
    isun_values: int  # values in the records sent
    ami_status: list[int]
    ami_values: int
    ami_totals: dict[str, Decimal]


def isun_message(stand, identity, hours_back: int = 4) -> bytes:
    facility = next(f for f in stand["facilities"] if f["kind"] == "1.2")
    record = device_record(
        facility, facility["devices"][0], period_start=recent_two_hour_slot(hours_back), is_daily=False
    )
    return signed_send_message(
        events([record]), identity=identity, message_id=new_message_id(), sender_id=stand["senderId"],
        password=DEMO_PASSWORD,
    )  # fmt: skip


def push_both_feeds(
    stand, identity, *, client: Client | None = None, meters: int = 3, messages: int = 2
) -> Pushed:
    """`messages` ISUN messages to /shep/SyncChannel and two AMI batches to the REST API, over HTTP."""
    import re

    client = client or Client()
    codes, isun_values = [], 0
    for n in range(messages):
        body = isun_message(stand, identity, hours_back=4 + 2 * n)
        answer = client.post("/shep/SyncChannel", data=body, content_type="text/xml; charset=utf-8")
        found = re.search(rb"SC(?:SS|E|BR)\d{3}", answer.content)
        codes.append(found.group(0).decode() if found else f"http-{answer.status_code}")
        isun_values += len(re.findall(rb"<value>|<Value>|Value=", body)) or 1
    world = make_world(meters)
    items = quarter_values(world.meters)
    half = len(items) // 2
    statuses = []
    for n, chunk in enumerate((items[:half], items[half:])):
        answer = client.post(
            AMI_URL, data=json.dumps(document(f"ops-{n}", intervals=chunk)), content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {world.token}",
        )  # fmt: skip
        statuses.append(answer.status_code)
    return Pushed(codes, isun_values, statuses, len(items), expected_totals(world.meters))


@pytest.fixture
def pushed(stand, identity):  # noqa: F811
    return push_both_feeds(stand, identity)


@pytest.fixture
def own_var(tmp_path, settings):
    """A var directory of the test's own (its test PKI included), so a backup holds only this test's files.

    Ask for it before `stand`, which creates the test CA under the configured var directory.
    """
    from dataclasses import replace

    from egsu.signatures import services as signatures

    var = tmp_path / "var"
    var.mkdir()
    (var / "secret_key").write_text("drill-secret-key-not-for-production")
    settings.CONFIG = replace(settings.CONFIG, var_dir=var)
    signatures.reset_caches()
    yield var
    signatures.reset_caches()


def egsu_env(var: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of an `egsu` process of this tree on another var directory and database."""
    import os

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EGSU_", "PROMETHEUS_"))}
    env |= {
        "EGSU_VAR_DIR": str(var),
        "PYTHONPATH": f"{root}:{root / 'agent'}",
        "DJANGO_SETTINGS_MODULE": "egsu.settings",
    }
    if database_url:
        env["EGSU_DATABASE_URL"] = database_url
    return env | extra


PROBE = """
import json, django
django.setup()
from egsu.ops.backup import table_checksums
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery
store = get_store()
print(json.dumps({
    "tables": table_checksums(),
    "totals": {k: str(v) for k, v in store.totals(ReadingQuery()).items()},
    "count": store.count(ReadingQuery()),
}))
"""


def probe(env: dict[str, str]) -> dict:
    """Every table's checksum and the readings totals, as another process on that database sees them."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


class PrivateCluster:
    """A PostgreSQL cluster of the test's own (initdb, pg_ctl from the Debian binaries) on a free
    loopback port, so that a drill may stop and restart it without touching the machine's server.

    As root the cluster belongs to the `postgres` user (initdb refuses root). Skips loudly when the
    binaries or that user are missing.
    """

    def __init__(self) -> None:
        import glob
        import os
        import pwd
        import shutil
        import tempfile

        from tests.readings.store_backends import free_port_block

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            pytest.skip(
                "NO POSTGRESQL BINARIES (/usr/lib/postgresql/*/bin): the PostgreSQL drill did not run"
            )
        self.bin = Path(found[-1]).parent
        self.run_as: list[str] = []
        self.folder = Path(tempfile.mkdtemp(prefix="egsu-pg-drill-"))
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip(
                    "NO 'postgres' USER to own a private cluster as root: the PostgreSQL drill did not run"
                )
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self.run_as = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", "postgres", "--"]
        self.data = self.folder / "data"
        self.port = free_port_block(1)
        self.url = f"postgresql://egsu:egsu@127.0.0.1:{self.port}/egsu_drill"

    def _run(self, *args: str, timeout: float = 120) -> None:
        import subprocess

        done = subprocess.run([*self.run_as, *args], capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stdout[-1500:]} {done.stderr[-1500:]}")

    def create(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "egsu", "-A", "trust", "--no-sync",
                  "-E", "UTF8", "--locale", "C.UTF-8")  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.folder}'\n"
                "fsync = on\nmax_connections = 60\nshared_buffers = 32MB\n"
            )
        self.start()
        self._run(
            str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "egsu", "egsu_drill"
        )

    def start(self) -> None:
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """`fast` rolls back open transactions and closes every connection (a restart); `immediate`
        aborts at once and recovers from the WAL on the next start (a crash)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def destroy(self) -> None:
        import shutil

        try:
            self.stop("immediate")
        except Exception:  # noqa: BLE001 - already stopped
            pass
        shutil.rmtree(self.folder, ignore_errors=True)
