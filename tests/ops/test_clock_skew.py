"""The clock-skew drill (issue 17 item 5; INT-33/34, INT-37, INT-51, App.1 §16): a web server whose
clock is wrong receives ISUN messages; the System judges them by its own clock, not that server's.

Which times the System trusts (docs/operations.md, "Time"):
- the receipt time is the System's clock — the database server's (PostgreSQL): every web server and
  consumer reads its offset from it (egsu.ops.timekeeping) and applies it. The journal's date and time
  (INT-51), the arrival verdict (on time until the slot's due time + the grace), the checks "not in the
  future" (messageDate at most 10 minutes ahead; a period that has begun) and certificate validity
  (App.1 §16) all take the receipt time;
- the message's own times are the sender's: `datetime` names the period a record is for, and its due
  time follows from the schedule (INT-33/34); `messageDate` is only checked not to lie in the future
  and is kept in the journal — never used to judge lateness.

A server's wrong clock is simulated with libfaketime (Debian package faketime), preloaded into one
`egsu web` three hours ahead and into another three hours behind; the test skips loudly without it.
"""

from __future__ import annotations

import glob
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from egsu_core.pki.keys import load_identity
from egsu_core.pki.sendmessage import signed_send_message
from tests.intake.conftest import DEMO_PASSWORD, device_record, events, new_message_id
from tests.ops.conftest import egsu_env
from tests.ops.drills import seed
from tests.readings.store_backends import free_port_block

pytestmark = pytest.mark.postgres

PROBE = """
import json, django
django.setup()
from egsu.journal.models import JournalEntry
from egsu.monitoring.models import Arrival
print(json.dumps({
    "journal": {e.message_id: e.occurred_at.isoformat() for e in JournalEntry.objects.filter(direction="IN")},
    "arrivals": [[a.device_id, a.period_start.isoformat(), a.on_time, a.accepted_at.isoformat()]
                 for a in Arrival.objects.exclude(accepted_at=None)],
}))
"""


def _current_two_hour_slot() -> datetime:
    """The start of the two-hour period now running (Astana's grid; INT-34): due when it ends, at most
    two hours from now, so its data is on time now by the true clock with half an hour to spare."""
    from egsu_core.clock import to_astana

    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    while to_astana(start).hour % 2:
        start -= timedelta(hours=1)
    return start


def test_a_web_server_with_a_wrong_clock_judges_messages_by_the_system_clock(tmp_path):
    import psycopg

    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    if not found:
        pytest.skip("NO LIBFAKETIME (apt-get install faketime): the clock-skew drill did not run")
    try:
        admin = psycopg.connect(
            "postgresql://egsu:egsu@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError as exc:
        pytest.skip(f"NO POSTGRESQL on 127.0.0.1:5432 for the clock-skew drill: {exc}")
    database = f"egsu_skew_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{database}"')
    servers: dict[str, subprocess.Popen] = {}
    try:
        var = tmp_path / "var"
        env = egsu_env(var, f"postgresql://egsu:egsu@127.0.0.1:5432/{database}")
        world = seed(env, 1, DEMO_PASSWORD)
        bases = {}
        for name, offset in (("ahead", "+3h"), ("behind", "-3h")):
            port = free_port_block(1)
            skewed = env | {"LD_PRELOAD": found[-1], "FAKETIME": offset}  # monotonic clocks too: sleeps work
            servers[name] = subprocess.Popen(
                [sys.executable, "-m", "egsu.cli", "web", "--port", str(port), "--workers", "1"], env=skewed,
                stdout=(tmp_path / f"{name}.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            bases[name] = f"http://127.0.0.1:{port}"
        clocks = {}
        for name, base in bases.items():
            deadline = time.monotonic() + 90
            while True:
                try:
                    health = httpx.get(base + "/healthz", timeout=5)
                    if health.status_code == 200:
                        clocks[name] = health.headers["Date"]
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, (tmp_path / f"{name}.log").read_text()[-3000:]
                time.sleep(0.3)
        # given two web servers whose clocks are three hours off, one each way (their Date headers say so)
        from email.utils import parsedate_to_datetime

        true_now = datetime.now(UTC)
        assert parsedate_to_datetime(clocks["ahead"]) - true_now > timedelta(hours=2, minutes=50), clocks
        assert true_now - parsedate_to_datetime(clocks["behind"]) > timedelta(hours=2, minutes=50), clocks
        stand = world["stand"]
        first = next(f for f in stand["facilities"] if f["kind"] == "1.2")
        tanks = [
            f for f in stand["facilities"] if f["kind"] == "1.2" and f["subject_bin"] == first["subject_bin"]
        ]
        owner = next(s for s in stand["subjects"] if s["bin"] == first["subject_bin"])
        identity = load_identity(Path(owner["sign_key"]).read_bytes(), Path(owner["sign_cert"]).read_bytes())
        slot = _current_two_hour_slot()
        # when each gets a message sent now (messageDate by the true clock) with the values of the period
        # now running — on time by any reading of the rules (INT-34: due when the period ends)
        sent = {}
        for n, name in enumerate(bases):
            record = device_record(tanks[n], tanks[n]["devices"][0], period_start=slot, is_daily=False)
            message_id = new_message_id()
            body = signed_send_message(events([record]), identity=identity, message_id=message_id,
                                       sender_id=stand["senderId"], password=DEMO_PASSWORD)  # fmt: skip
            answer = httpx.post(bases[name] + "/shep/SyncChannel", content=body,
                                headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=60)  # fmt: skip
            sent[name] = (message_id, answer)
        # then both are accepted: the server behind does not find the messageDate "in the future" nor the
        # sender's certificate "not yet valid", the server ahead does not find the certificate expired
        for name, (_id, answer) in sent.items():
            assert answer.status_code == 200 and b"SCSS001" in answer.content, (
                name,
                re.findall(r"<faultstring>(.*?)</faultstring>", answer.text),
            )
        probe = subprocess.run(
            [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
        )
        assert probe.returncode == 0, probe.stderr[-3000:]
        seen = json.loads(probe.stdout.strip().splitlines()[-1])
        # and the journal's times (INT-51) and the arrivals' receipt times are the System's, not the servers'
        for name, (message_id, _answer) in sent.items():
            at = datetime.fromisoformat(seen["journal"][message_id])
            assert abs(at - true_now) < timedelta(minutes=2), (name, at, true_now)
        assert len(seen["arrivals"]) == 2, seen
        for _device, _start, on_time, accepted_at in seen["arrivals"]:
            assert abs(datetime.fromisoformat(accepted_at) - true_now) < timedelta(minutes=2), seen
            # on time: the period's due time (its end) + the grace, against the System's clock (the
            # server ahead would have found it three hours late)
            assert on_time is True, seen
    finally:
        for process in servers.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()
