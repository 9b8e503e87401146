"""Drills (issue 17 item 5; DIG-13, INT-13): what the System answers while a server it depends on is
down in the middle of intake, and that it recovers without an operator once the server is back.

Senders (tests/ops/drills.py) push signed ISUN messages and AMI REST batches into a real `egsu web`
(gunicorn, two workers) and send again whatever got no acknowledgement, as INT-13 and the AMI contract
tell them to. While the server is down every attempt must get a clear refusal — a signed SCE909 fault
(retry later) for ISUN, HTTP 503 `store-unavailable` with Retry-After for AMI — never an
acknowledgement of something not stored; afterwards every message and batch is acknowledged and
stored exactly once.
"""

from __future__ import annotations

import time

import pytest

from tests.intake.conftest import DEMO_PASSWORD
from tests.ops.conftest import PrivateCluster, egsu_env
from tests.ops.drills import Outcome, run_drill

ISUN_REFUSED = "isun 500 SCE909 signed"
AMI_REFUSED = "ami 503 store-unavailable retry-after=30"


def _wait_for(outcome: Outcome, condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition(outcome) and time.monotonic() < deadline:
        time.sleep(0.05)


def _assert_stored_once(outcome: Outcome, messages: int, batches: int) -> None:
    assert len(outcome.acknowledged) == messages + batches, outcome
    assert all("200 SCSS001" in a or "200 stored" in a for a in outcome.acknowledged.values()), (
        outcome.acknowledged
    )
    stored = outcome.stored
    assert (stored["messages"], stored["messages_twice"], stored["batches"], stored["revised"]) == (
        messages, 0, batches, 0,
    )  # fmt: skip


def test_a_postgresql_restart_during_intake_refuses_clearly_and_recovers_alone(tmp_path):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            "the PostgreSQL restart drill runs once, in the PostgreSQL pass (on a cluster of its own)"
        )
    cluster = PrivateCluster()
    try:
        cluster.create()
        var = tmp_path / "var"
        env = egsu_env(var, cluster.url)
        seen: dict[str, int] = {}
        down: list[float] = []

        def restart(outcome: Outcome) -> None:
            # when PostgreSQL goes away in the middle of intake (a crash: no clean shutdown) …
            _wait_for(outcome, lambda o: len(o.acknowledged) >= 2)
            cluster.stop("immediate")
            stopped = time.monotonic()
            # … and stays away until both senders were refused at least once
            _wait_for(
                outcome, lambda o: o.refusals.get(ISUN_REFUSED, 0) and o.refusals.get(AMI_REFUSED, 0), 30
            )
            seen.update(outcome.refusals)
            cluster.start()
            down.append(time.monotonic() - stopped)

        outcome = run_drill(var, env, messages=6, batches=6, password=DEMO_PASSWORD, disrupt=restart,
                            spacing=0.4, pause=0.2)  # fmt: skip
    finally:
        cluster.destroy()
    # then while it was down every attempt got a clear refusal, never an acknowledgement
    assert seen.get(ISUN_REFUSED) and seen.get(AMI_REFUSED), seen
    assert set(outcome.refusals) <= {ISUN_REFUSED, AMI_REFUSED}, outcome.refusals
    # and once it is back every message and batch is acknowledged and stored once, without an operator
    _assert_stored_once(outcome, 6, 6)
    print(f"postgresql restart: down {down[0]:.1f} s, {outcome.refusals}, attempts={outcome.attempts}"  # noqa: T201
          f" seconds={outcome.seconds:.1f} {outcome.stored}")  # fmt: skip


def test_claims_on_postgresql_connect_again_after_a_restart():
    """ADR 0013's claims hold a PostgreSQL connection of their own per process; after a restart of the
    server that connection is lost. The write that finds it so fails (the sender is told to send again),
    and the next one connects anew — before, every ClickHouse write of every running process failed
    until the processes were restarted by hand."""
    import psycopg
    from django.db import connection

    from egsu.readings.claims import PostgresClaims

    if connection.vendor != "postgresql":
        pytest.skip("runs once, in the PostgreSQL pass (on a cluster of its own)")
    cluster = PrivateCluster()
    try:
        cluster.create()
        claims = PostgresClaims(cluster.url, "drill")
        entry = ("407001", "1", "mass", "P1D", 1_700_000_000, "1", "t", "good")
        assert claims.claim([entry], lambda revisions: b"rows") == ([1], 1)
        cluster.stop("fast")
        cluster.start()
        with pytest.raises(psycopg.OperationalError):
            claims.claim([entry[:4] + (1_700_086_400,) + entry[5:]], lambda revisions: b"rows")
        # the next claim runs on a new connection, and nothing of the failed one was committed
        assert claims.claim([entry[:4] + (1_700_086_400,) + entry[5:]], lambda revisions: b"rows") == ([1], 2)
        assert claims.claim([entry], lambda revisions: None) == ([None], None)
        assert claims.pending() == 2
        claims.close()
    finally:
        cluster.destroy()


CLICKHOUSE_PROBE = """
import json, django
django.setup()
from egsu.readings.services import get_store
from egsu.readings.tasks import recover_claims
store = get_store()
def seen():
    rows, keys, twice = store.connection.query(
        f"SELECT count(), uniqExact(object_id, device_id, quantity, duration, period_start),"
        f" countIf(revision > 1) FROM {store.table}")[0]
    return {"rows": rows, "keys": keys, "revised": twice, "pending": store.claims.pending()}
before = seen()
recovered = recover_claims.call()  # the periodic job readings.recover-claims, once
print(json.dumps({"before": before, "recovered": recovered, "after": seen()}))
"""


def test_a_clickhouse_outage_during_intake_refuses_clearly_and_leaves_nothing_pending(tmp_path):
    import json
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from tests.ops.drills import seed
    from tests.readings import store_backends

    if connection.vendor != "sqlite":
        pytest.skip("the ClickHouse outage drill runs once, in the SQLite pass (on a ClickHouse of its own)")
    port = store_backends.free_port_block(3)
    folder = tmp_path / "clickhouse"
    server = (
        "--port",
        str(port),
        "--http-port",
        str(port + 1),
        "--interserver-port",
        str(port + 2),
        "--dir",
        str(folder),
    )
    pool = ThreadPoolExecutor(1)
    starting = pool.submit(store_backends.ensure_clickhouse, *server)  # while the database is migrated
    pool.shutdown(wait=False)
    try:
        var = tmp_path / "var"
        env = egsu_env(var, f"sqlite:///{var / 'egsu.sqlite3'}", EGSU_READINGS_BACKEND="clickhouse",
                       EGSU_CLICKHOUSE_URL=f"clickhouse://127.0.0.1:{port}/egsu_drill")  # fmt: skip
        world = seed(env, 4, DEMO_PASSWORD)
        starting.result()  # skips loudly when no server can be started
        seen: dict[str, int] = {}
        down: list[float] = []

        def outage(outcome: Outcome) -> None:
            # when ClickHouse stops in the middle of intake …
            _wait_for(outcome, lambda o: len(o.acknowledged) >= 2)
            store_backends.stop_clickhouse(folder)
            stopped = time.monotonic()
            # … and stays away until both senders were refused at least once
            _wait_for(
                outcome, lambda o: o.refusals.get(ISUN_REFUSED, 0) and o.refusals.get(AMI_REFUSED, 0), 30
            )
            seen.update(outcome.refusals)
            store_backends.ensure_clickhouse(*server)
            down.append(time.monotonic() - stopped)

        outcome = run_drill(var, env, messages=6, batches=6, password=DEMO_PASSWORD, disrupt=outage,
                            spacing=0.4, pause=0.2, seed_world=world)  # fmt: skip
        probe = subprocess.run([sys.executable, "-c", CLICKHOUSE_PROBE], env=env, capture_output=True, text=True,
                               timeout=120)  # fmt: skip
        assert probe.returncode == 0, probe.stderr[-3000:]
        stored = json.loads(probe.stdout.strip().splitlines()[-1])
    finally:
        store_backends.stop_clickhouse(folder)
    # then while it was down every attempt got a clear refusal, never an acknowledgement
    assert seen.get(ISUN_REFUSED) and seen.get(AMI_REFUSED), seen
    assert set(outcome.refusals) <= {ISUN_REFUSED, AMI_REFUSED}, outcome.refusals
    # and once it is back every message and batch is acknowledged, each journalled and recorded once
    _assert_stored_once(outcome, 6, 6)
    # and every value is in ClickHouse once (no key twice, no second revision) and no claim is left
    # pending once the periodic job readings.recover-claims has run (values claimed while ClickHouse was
    # down wait in their intents until then: no operator needed)
    after = stored["after"]
    assert after["pending"] == 0, stored
    assert after["rows"] == after["keys"] and after["revised"] == 0, stored
    assert after["rows"] - outcome.expected_values >= 6, stored  # the AMI values exactly, and the ISUN ones
    print(f"clickhouse outage: down {down[0]:.1f} s, {outcome.refusals}, attempts={outcome.attempts}"  # noqa: T201
          f" seconds={outcome.seconds:.1f} {stored}")  # fmt: skip


def test_a_server_stopped_in_order_leaves_no_value_queued(tmp_path):
    """With deferred inserts (ADR 0013) a web server stopped in order (SIGTERM: an upgrade, the last
    server of a site shut down) inserts what its workers queued before they exit: nothing waits for the
    next start or for the periodic recovery before reads show it."""
    import json
    import subprocess
    import sys
    import uuid

    from django.db import connection

    from egsu.readings.backends.clickhouse import ClickHouseReadingsStore
    from tests.readings import store_backends

    if connection.vendor != "sqlite":
        pytest.skip("the orderly-stop drill runs once, in the SQLite pass")
    server = store_backends._server_url()  # skips loudly when no server can be started
    url = f"{server.rsplit('/', 1)[0]}/egsu_stop_{uuid.uuid4().hex[:10]}"
    var = tmp_path / "var"
    # a flush interval longer than the run: only the workers' exit can insert what they queued
    env = egsu_env(var, f"sqlite:///{var / 'egsu.sqlite3'}", EGSU_READINGS_BACKEND="clickhouse",
                   EGSU_CLICKHOUSE_URL=url, EGSU_READINGS_FLUSH_S="10")  # fmt: skip
    try:
        outcome = run_drill(var, env, messages=3, batches=3, password=DEMO_PASSWORD)
        probe = subprocess.run([sys.executable, "-c", CLICKHOUSE_PROBE], env=env, capture_output=True, text=True,
                               timeout=120)  # fmt: skip
        assert probe.returncode == 0, probe.stderr[-3000:]
        before = json.loads(probe.stdout.strip().splitlines()[-1])["before"]  # before any recovery runs
    finally:
        store_backends.drop_database(ClickHouseReadingsStore.from_url(url, create_schema=False))
    _assert_stored_once(outcome, 3, 3)
    assert before["pending"] == 0, before
    assert before["rows"] == before["keys"] and before["revised"] == 0, before
    assert before["rows"] - outcome.expected_values >= 3, before  # the AMI values exactly, and the ISUN ones
    if outcome.seconds >= 10:  # a starved machine: a flusher's tick may have inserted them instead
        pytest.skip(f"the senders took {outcome.seconds:.0f} s, longer than the flush interval: the end state"
                    " holds, but it does not show that the stopping workers inserted it")  # fmt: skip
