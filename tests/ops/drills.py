"""The kill -9 drill (issue 17 item 5; DIG-13, INT-13), shared by the lean test and the long script
(`benchmarks/drill_kill.py`): a real `egsu web` (gunicorn, two workers) on a database of its own takes
signed ISUN messages and AMI REST batches from two senders while a killer SIGKILLs a random gunicorn
worker at random moments. A sender that gets no answer (reset connection, 5xx) sends the same message
or batch again, as INT-13 and the AMI contract tell it to, until it is acknowledged.

Checked afterwards: every message and batch acknowledged; each stored exactly once (one journal entry
per messageId, one batch record per batch id, no value with a second revision, the readings count
exact); the acknowledged answers are the ones the System keeps (a resend of a message whose first
answer was lost is answered with the stored answer).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import httpx

SEED = """
import json, django
django.setup()
from egsu.cli.app import prepare
prepare(quiet=True)
from egsu.registry.demo import load_demo_registry
from egsu.signatures.stand import equip
from tests.ami.conftest import make_world
stand = equip(load_demo_registry(password=%r), base_url="http://127.0.0.1")
world = make_world(%d)
print(json.dumps({"stand": stand, "token": world.token, "meters": [[m.pk, m.serial_number] for m in world.meters]},
                 default=str))
"""

PROBE = """
import json, django
django.setup()
from django.db.models import Count
from egsu.ami.models import AmiBatch
from egsu.journal.models import JournalEntry
from egsu.readings.models import Reading
incoming = JournalEntry.objects.filter(direction="IN", kind="message")
print(json.dumps({
    "messages": incoming.count(),
    "messages_twice": incoming.values("message_id").annotate(n=Count("id")).filter(n__gt=1).count(),
    "batches": AmiBatch.objects.count(),
    "values": Reading.objects.count(),
    "revised": Reading.objects.filter(revision__gt=1).count(),
}))
"""

CODE = re.compile(rb"SC(?:SS|E|BR)\d{3}")


@dataclass
class Outcome:
    kills: int = 0
    attempts: int = 0
    failed_attempts: int = 0  # no answer, or 5xx: sent again
    refusals: dict[str, int] = field(default_factory=dict)  # what the failed attempts were answered: count
    acknowledged: dict[str, str] = field(default_factory=dict)  # message or batch id → answer summary
    stored: dict = field(default_factory=dict)
    seconds: float = 0.0
    expected_values: int = 0


def seed(env: dict, meters: int, password: str) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", SEED % (password, meters)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-3000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def probe(env: dict) -> dict:
    run = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-3000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def gunicorn_workers(master: int) -> list[int]:
    """The gunicorn master's children (its workers), from /proc."""
    children = []
    for task in Path(f"/proc/{master}/task").glob("*"):
        try:
            children += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return children


def _send_until_acknowledged(
    post, key: str, outcome: Outcome, lock: threading.Lock, stop: threading.Event, pause: float = 0.05
) -> None:
    while not stop.is_set():
        with lock:
            outcome.attempts += 1
        try:
            response = post()
        except httpx.HTTPError:
            response = None
        if response is not None and response.status_code in (200, 400, 409):
            with lock:
                outcome.acknowledged[key] = _summary(response)
            return
        refusal = refusal_summary(response)
        with lock:
            outcome.failed_attempts += 1
            outcome.refusals[refusal] = outcome.refusals.get(refusal, 0) + 1
        time.sleep(pause)


def refusal_summary(response: httpx.Response | None) -> str:
    """What a sender was told when nothing was stored: 'no answer', 'isun 500 SCE909 signed',
    'ami 503 store-unavailable retry-after=30', or whatever else came (a drill asserts on these)."""
    if response is None:
        return "no answer"
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            code = response.json().get("code")
        except ValueError:
            code = "?"
        retry = response.headers.get("Retry-After")
        return f"ami {response.status_code} {code}" + (f" retry-after={retry}" if retry else "")
    found = CODE.search(response.content)
    signed = b"SignatureValue" in response.content
    return f"isun {response.status_code} {found.group(0).decode() if found else '?'}" + (
        " signed" if signed else " unsigned"
    )


def _summary(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        return f"{response.status_code} {body.get('status')} stored={body.get('stored')}"
    found = CODE.search(response.content)
    return f"{response.status_code} {found.group(0).decode() if found else '?'}"


def run_drill(
    var: Path, env: dict, *, kills: int = 0, messages: int, batches: int, meters: int = 4, seed_world: dict | None = None,
    interval: tuple[float, float] = (0.2, 0.8), password: str, disrupt: Callable[[Outcome], None] | None = None,
    spacing: float = 0.0, pause: float = 0.05,
) -> Outcome:  # fmt: skip
    """Start `egsu web`, send while killing gunicorn workers, stop it; the outcome (probe included).

    `disrupt(outcome)`, when given, replaces the killer: it runs while the senders send (each
    waits `spacing` seconds after an acknowledgement, `pause` after a failed attempt) and may stop
    and start whatever the web server depends on; the senders keep resending until acknowledged.
    """
    from egsu_core.pki.keys import load_identity
    from tests.ami.conftest import document, quarter_values
    from tests.ops.conftest import isun_message
    from tests.readings.store_backends import free_port_block

    world = seed_world or seed(env, meters, password)
    stand = world["stand"]
    owner = next(s for s in stand["subjects"] if s["bin"] == stand["facilities"][0]["subject_bin"])
    identity = load_identity(Path(owner["sign_key"]).read_bytes(), Path(owner["sign_cert"]).read_bytes())
    bodies = [isun_message(stand, identity, hours_back=4 + 2 * n) for n in range(messages)]
    meter_objects = [SimpleNamespace(pk=pk, serial_number=serial) for pk, serial in world["meters"]]
    items = quarter_values(meter_objects, quarters=4 * batches)
    size = len(items) // batches
    documents = [document(f"kill-{n}", intervals=items[n * size : (n + 1) * size]) for n in range(batches)]
    port = free_port_block(1)
    log = (var.parent / "web.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "egsu.cli", "web", "--port", str(port), "--workers", "2"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    outcome = Outcome(expected_values=size * batches)
    lock, stop = threading.Lock(), threading.Event()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if (
                    httpx.get(base + "/healthz", timeout=2).status_code == 200
                    and len(gunicorn_workers(server.pid)) == 2
                ):
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        started = time.monotonic()

        def isun() -> None:
            with httpx.Client(timeout=30) as client:
                for n, body in enumerate(bodies):
                    _send_until_acknowledged(
                        lambda body=body: client.post(
                            base + "/shep/SyncChannel", content=body, headers={"Content-Type": "text/xml; charset=utf-8"}
                        ),
                        f"isun-{n}", outcome, lock, stop, pause,
                    )  # fmt: skip
                    time.sleep(spacing)

        def ami() -> None:
            with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {world['token']}"}) as client:
                for doc in documents:
                    _send_until_acknowledged(
                        lambda doc=doc: client.post(base + "/api/ami/v1/batches", json=doc), doc["batchId"],
                        outcome, lock, stop, pause,
                    )  # fmt: skip
                    time.sleep(spacing)

        senders = [threading.Thread(target=isun), threading.Thread(target=ami)]
        for thread in senders:
            thread.start()
        rng = random.Random(17)
        if disrupt is not None:
            disrupt(outcome)
        while disrupt is None and outcome.kills < kills and any(t.is_alive() for t in senders):
            time.sleep(rng.uniform(*interval))
            workers = gunicorn_workers(server.pid)
            if workers:
                os.kill(rng.choice(workers), signal.SIGKILL)
                outcome.kills += 1
        for thread in senders:
            thread.join(timeout=300)
        stop.set()
        outcome.seconds = time.monotonic() - started
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
    outcome.stored = probe(env)
    return outcome
