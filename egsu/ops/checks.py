"""Readiness: every part the System needs, each named with its state (DIG-23, DIG-24: automatic
diagnostics). `/readyz` answers 503 and `egsu doctor` exits 1 when one of them is not ready.

Each check is cheap and bounded in time: a load balancer may call /readyz every few seconds.
Checks never raise; a failure is a state with its reason.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection

from egsu_core.clock import utcnow

OK, WARN, FAIL, OFF = "ok", "warn", "fail", "off"  # off: not configured here (not a failure)
HEARTBEAT_MAX_AGE = timedelta(minutes=5)  # the every-minute jobs.heartbeat job, with slack
CERT_WARN_BEFORE = timedelta(days=30)
BROKER_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    state: str  # ok | warn | fail | off
    detail: str

    @property
    def ready(self) -> bool:
        return self.state != FAIL

    def as_dict(self) -> dict:
        return {"name": self.name, "state": self.state, "detail": self.detail}


def database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Check("database", OK, f"{connection.vendor} {connection.settings_dict['NAME']}")


def clickhouse() -> Check:
    if settings.READINGS_BACKEND != "clickhouse":
        return Check("clickhouse", OFF, "readings on the SQL database (EGSU_READINGS_BACKEND=sql)")
    from egsu.readings.backends.clickhouse import connect

    conn, database_name = connect(settings.CLICKHOUSE_URL)
    try:
        version = conn.query("SELECT version()")[0][0]
    finally:
        conn.close()
    return Check("clickhouse", OK, f"server {version}, database {database_name}")


def claims() -> Check:
    """Open intents of ClickHouse writes (ADR 0013): warn when one waits for recovery."""
    if settings.READINGS_BACKEND != "clickhouse":
        return Check("claims", OFF, "writes settle in the SQL database")
    from egsu.readings.upkeep import open_intents

    intents = open_intents(count_rows=False)  # cheap: /readyz is asked every few seconds
    if intents is None:
        return Check("claims", OFF, "writes are not claimed (chDB in one process)")
    waiting = [intent for intent in intents if intent.waits_for_recovery]
    detail = f"{len(intents)} intent(s) open, {len(waiting)} waiting for recovery"
    if waiting:
        states = sorted({intent.state for intent in waiting})
        return Check("claims", WARN, f"{detail} ({', '.join(states)}): egsu readings claims recover")
    return Check("claims", OK, detail)


def broker_settings() -> tuple[str, int, str | None, str | None] | None:
    """The MQTT broker `egsu ami mqtt` uses (its EGSU_MQTT_* variables); None when none is configured."""
    host = os.environ.get("EGSU_MQTT_HOST", "")
    if not host:
        return None
    port = int(os.environ.get("EGSU_MQTT_PORT", "1883") or 1883)
    return host, port, os.environ.get("EGSU_MQTT_USERNAME") or None, os.environ.get("EGSU_MQTT_PASSWORD")


def _mqtt_connect_packet(client_id: str, username: str | None, password: str | None) -> bytes:
    """MQTT 3.1.1 CONNECT, clean session, keepalive 5 s (the broker's CONNACK is all we want)."""

    def text(value: str) -> bytes:
        data = value.encode()
        return struct.pack("!H", len(data)) + data

    flags = 0x02 | (0x80 if username else 0) | (0x40 if username and password else 0)
    body = text("MQTT") + bytes([4, flags]) + struct.pack("!H", 5) + text(client_id)
    if username:
        body += text(username) + (text(password) if password else b"")
    length, encoded = len(body), b""
    while True:
        byte, length = length % 128, length // 128
        encoded += bytes([byte | (0x80 if length else 0)])
        if not length:
            break
    return b"\x10" + encoded + body


def broker() -> Check:
    configured = broker_settings()
    if configured is None:
        return Check("mqtt broker", OFF, "no broker configured (EGSU_MQTT_HOST)")
    host, port, username, password = configured
    client_id = f"egsu-readyz-{socket.gethostname()[:20]}-{os.getpid()}"
    with socket.create_connection((host, port), timeout=BROKER_TIMEOUT_S) as sock:
        sock.sendall(_mqtt_connect_packet(client_id, username, password))
        connack = sock.recv(4)
        sock.sendall(b"\xe0\x00")  # DISCONNECT
    if len(connack) < 4 or connack[0] != 0x20:
        return Check("mqtt broker", FAIL, f"{host}:{port} did not answer CONNECT")
    if connack[3] != 0:
        return Check("mqtt broker", FAIL, f"{host}:{port} refused the connection (return code {connack[3]})")
    return Check("mqtt broker", OK, f"{host}:{port} accepts connections")


def workers() -> Check:
    """A worker and a scheduler heartbeat (egsu.jobs Worker rows), and the periodic heartbeat job ran."""
    from egsu.jobs import services as jobs

    health = jobs.health()
    detail = (
        f"{health.workers_alive} worker(s), {health.schedulers_alive} scheduler(s) alive; "
        f"{health.ready} job(s) waiting"
    )
    if health.oldest_ready_age_s is not None:
        detail += f", oldest {health.oldest_ready_age_s:.0f} s"
    if not health.ok:
        return Check("workers", FAIL, detail + " — start `egsu worker` and `egsu scheduler`")
    beat = health.last_heartbeat_job_at
    if beat is None or utcnow() - beat > HEARTBEAT_MAX_AGE:
        when = "never" if beat is None else f"last at {beat:%Y-%m-%d %H:%M:%S} UTC"
        return Check("workers", WARN, f"{detail}; the jobs.heartbeat job has not run recently ({when})")
    return Check("workers", OK, detail)


_SIGNING_CACHE: dict[str | None, tuple[float, Check]] = {}
SIGNING_RECHECK_S = 60.0


def _contours() -> list[str | None]:
    """None: the production (default) key; "test" when a separate test key is configured."""
    return [None, "test"] if settings.CONFIG.test_signing_key else [None]


def signing_key() -> Check:
    """The System signs a probe and verifies it (App.1 §51), at most once a minute per process."""
    from egsu.signatures import services as signatures
    from egsu_core.pki.certs import load_certificate

    cached = _SIGNING_CACHE.get("all")
    if cached is not None and time.monotonic() - cached[0] < SIGNING_RECHECK_S:
        return cached[1]
    parts, state = [], OK
    for contour in _contours():
        signatures.check_signing_identity(contour)
        cert = load_certificate(signatures.system_identity(contour).certificate_der)
        left = cert.not_after - utcnow()
        label = contour or "production"
        if left <= timedelta(0):
            return Check("signing key", FAIL, f"{label} key's certificate expired {cert.not_after:%Y-%m-%d}")
        if left < CERT_WARN_BEFORE:
            state = WARN
        parts.append(f"{label}: signs and verifies; {cert.common_name} until {cert.not_after:%Y-%m-%d}")
    check = Check("signing key", state, "; ".join(parts))
    _SIGNING_CACHE["all"] = (time.monotonic(), check)
    return check


def trust_store() -> Check:
    from egsu.signatures import services as signatures

    now = utcnow()
    parts, state = [], OK
    contours = ["test"] if settings.CONFIG.uses_test_pki else ["production"]
    if settings.CONFIG.test_trust_roots:
        contours.append("test")
    for contour in contours:
        store = signatures.trust_store(contour)
        anchors = store.anchors
        current = [c for c in anchors if c.valid_at(now)]
        if not current:
            return Check(
                "trust store", FAIL, f"{contour}: no current trusted root ({len(anchors)} configured)"
            )
        soon = [c for c in current if c.not_after - now < CERT_WARN_BEFORE]
        if soon or len(current) < len(anchors):
            state = WARN
        parts.append(
            f"{contour}: {len(current)} current root(s) of {len(anchors)}, "
            f"{len(store.intermediates)} intermediate(s)"
            + (f", {len(soon)} expire within 30 days" if soon else "")
        )
    return Check("trust store", state, "; ".join(parts))


def revocation_sources() -> Check:
    """CRLs held in the database and current; OCSP responders this process found down (SIG-09)."""
    from egsu.signatures import services as signatures
    from egsu.signatures.models import StoredCrl

    now = utcnow()
    crls = list(StoredCrl.objects.values_list("issuer", "next_update", "delta"))
    stale = [issuer for issuer, next_update, _ in crls if next_update is not None and next_update < now]
    cache = signatures.revocation_cache()
    down = sorted(url for url, until in getattr(cache, "_down", {}).items() if until > time.monotonic())
    if settings.CONFIG.uses_test_pki:
        where = "the stand's own test CAs (answered in process)"
    else:
        hosts = len(signatures.allowed_revocation_hosts()) + len(settings.CONFIG.pki_mirrors)
        where = f"{hosts} allowed host(s) or mirror(s)"
    detail = f"{where}; {len(crls)} CRL(s) held, {len(stale)} past nextUpdate"
    if down:
        detail += f"; OCSP not answering: {', '.join(down[:3])}"
    state = WARN if stale or down else OK
    return Check("revocation sources", state, detail)


def gost_hashes() -> Check:
    """Whether GOST digests run compiled. The C extension is optional at install (no compiler: the
    install still succeeds), and without it every GOST-signed message is hashed by pure Python,
    hundreds of times slower: a 15 MB message (INT-07) takes most of a minute against INT-08's 10 s."""
    from egsu_core.pki.gost import gost3411_94, streebog

    slow = [name for name, module in (("GOST R 34.11-94", gost3411_94), ("Streebog", streebog))
            if module.IMPLEMENTATION != "native"]  # fmt: skip
    if slow:
        return Check(
            "gost hashes", WARN,
            f"{' and '.join(slow)} in pure Python: egsu_core.pki.gost._gosthash is not built — reinstall "
            "egsu-core with a C compiler and the Python headers (make install)",
        )  # fmt: skip
    return Check("gost hashes", OK, "compiled (egsu_core.pki.gost._gosthash)")


CHECKS: list[Callable[[], Check]] = [
    database, clickhouse, claims, broker, workers, signing_key, trust_store, revocation_sources, gost_hashes,
]  # fmt: skip
_NAMES = {
    database: "database", clickhouse: "clickhouse", claims: "claims", broker: "mqtt broker", workers: "workers",
    signing_key: "signing key", trust_store: "trust store", revocation_sources: "revocation sources",
    gost_hashes: "gost hashes",
}  # fmt: skip


def run_all() -> list[Check]:
    """Every check, in order; one that raises is a failure with the error as its detail."""
    results = []
    for check in CHECKS:
        try:
            results.append(check())
        except Exception as exc:  # noqa: BLE001 - a readiness check reports, it never breaks the page
            results.append(Check(_NAMES[check], FAIL, f"{type(exc).__name__}: {exc}"[:300]))
    return results


def ready(results: list[Check]) -> bool:
    return all(result.ready for result in results)
