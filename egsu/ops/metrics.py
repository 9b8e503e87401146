"""Prometheus metrics (DIG-22: central monitoring), with the maintained client (prometheus_client).

Counters and histograms are kept per process; `egsu serve` runs several gunicorn workers, so the
server sets PROMETHEUS_MULTIPROC_DIR (egsu.ops.gunicorn) and /metrics merges every process's
files. Figures that live in the database (queue depth, oldest job, arrivals completeness, open
alarms) are read when /metrics is scraped, never kept in a process.

The intakes call one function each: `observe_isun` (egsu.intake.services.receive) and `observe_ami`
(egsu.ami.intake.receive); signatures and revocation are counted where they are decided.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from functools import wraps

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from egsu.processes import alive as _alive

FEEDS = ("isun", "ami")
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

MESSAGES = Counter(
    "egsu_intake_messages",
    "Messages (ISUN) and batches (AMI) received, by feed and verdict",
    ["feed", "verdict"],
)
VALUES = Counter("egsu_intake_values", "Values received, by feed and verdict", ["feed", "verdict"])
LATENCY = Histogram(
    "egsu_intake_seconds", "Time from request to answer, by feed", ["feed"], buckets=_LATENCY_BUCKETS
)
SIGNATURES = Counter("egsu_signature_verdicts", "Transport and business-data signature verdicts", ["verdict"])
REVOCATION = Counter(
    "egsu_revocation_checks",
    "OCSP/CRL checks by where the answer came from and its state",
    ["source", "state"],
)

# ---------------------------------------------------------------- the intakes

log = logging.getLogger(__name__)


def _safely(update: Callable[[], None]) -> None:
    """A metric that cannot be written (a full disk under PROMETHEUS_MULTIPROC_DIR) never changes an answer."""
    try:
        update()
    except Exception:  # noqa: BLE001
        log.warning("a metric could not be updated", exc_info=True)


_CODE = re.compile(rb"\b(SCE\d{3}|SCSS\d{3}|SCBR\d{3})\b")


def isun_verdict(http_status: int, body: bytes) -> str:
    """The gateway's code of an answer (its first one: the envelope status or the fault's code)."""
    if http_status == 503 or not body:
        return "unavailable"
    found = _CODE.search(body)
    return found.group(1).decode() if found else f"http-{http_status}"


def observe_isun(receive: Callable) -> Callable:
    """Wraps egsu.intake.services.receive: its latency and the answer's code, per message."""

    @wraps(receive)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        answer = receive(*args, **kwargs)
        seconds = time.perf_counter() - started
        _safely(lambda: LATENCY.labels("isun").observe(seconds))
        _safely(lambda: MESSAGES.labels("isun", isun_verdict(answer.http_status, answer.body)).inc())
        return answer

    return wrapper


def count_isun_values(verdicts: Iterable) -> None:
    """Values of one processed message by record verdict (a rejected record with no readable values
    counts as one)."""
    counts: dict[str, int] = {}
    for verdict in verdicts:
        status = verdict.status.value if hasattr(verdict.status, "value") else str(verdict.status)
        values = len(verdict.record.values) if verdict.record is not None else 1
        counts[status.lower()] = counts.get(status.lower(), 0) + max(values, 1)
    for status, number in counts.items():
        _safely(lambda status=status, number=number: VALUES.labels("isun", status).inc(number))


def observe_ami(receive: Callable) -> Callable:
    """Wraps egsu.ami.intake.receive (REST and MQTT): latency, the batch's status, its values.

    An exception (the store unavailable) is counted `unavailable` and raised on.
    """

    @wraps(receive)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            answer = receive(*args, **kwargs)
        except Exception:
            _safely(lambda: MESSAGES.labels("ami", "unavailable").inc())
            raise
        finally:
            seconds = time.perf_counter() - started
            _safely(lambda: LATENCY.labels("ami").observe(seconds))
        _safely(lambda: _count_ami(answer))
        return answer

    return wrapper


def _count_ami(answer) -> None:
    body = answer.body
    verdict = "replay" if answer.replay else str(body.get("status") or f"http-{answer.status}")
    MESSAGES.labels("ami", verdict).inc()
    if not answer.replay and isinstance(body.get("values"), dict):
        for outcome, number in body["values"].items():
            if number:
                VALUES.labels("ami", outcome).inc(number)
        if body.get("refused"):
            VALUES.labels("ami", "refused").inc(len(body["refused"]))


def count_signature(verdict: str) -> None:
    """`valid` for a message whose signatures all passed, else its code (SCE005, SCE006, SCE007)."""
    _safely(lambda: SIGNATURES.labels(verdict).inc())


def count_revocation(source: str, state: str) -> None:
    _safely(lambda: REVOCATION.labels(source, state).inc())


# ---------------------------------------------------------------- alarms (the alarms app plugs in)

_ALARM_COUNTS: list[Callable[[], Mapping[str, int]]] = []


def register_open_alarms_by_severity(provider: Callable[[], Mapping[str, int]]) -> None:
    """For the alarms app (not yet written): call once at start-up (AppConfig.ready) with a function
    returning the number of open alarms by severity, e.g. ``{"critical": 2, "warning": 5}``.

    It is called at each scrape and exported as ``egsu_alarms_open{severity=…}``; until an alarms
    app registers, the metric is exported empty.
    """
    if provider not in _ALARM_COUNTS:
        _ALARM_COUNTS.append(provider)


# ---------------------------------------------------------------- read from the database at scrape


class DatabaseCollector:
    """Queue depth and age, live workers, arrivals completeness and open alarms, read at scrape."""

    def collect(self):
        from egsu.jobs import services as jobs

        health = jobs.health()
        depth = GaugeMetricFamily("egsu_jobs_ready", "Jobs waiting that could run now")
        depth.add_metric([], health.ready)
        yield depth
        running = GaugeMetricFamily("egsu_jobs_running", "Jobs running now")
        running.add_metric([], health.running)
        yield running
        oldest = GaugeMetricFamily("egsu_jobs_oldest_ready_age_seconds", "Age of the oldest waiting job")
        oldest.add_metric([], health.oldest_ready_age_s or 0.0)
        yield oldest
        failed = GaugeMetricFamily("egsu_jobs_failed_last_day", "Jobs that failed in the last 24 hours")
        failed.add_metric([], health.failed_last_day)
        yield failed
        alive = GaugeMetricFamily(
            "egsu_workers_alive", "Worker processes with a fresh heartbeat", labels=["kind"]
        )
        alive.add_metric(["worker"], health.workers_alive)
        alive.add_metric(["scheduler"], health.schedulers_alive)
        yield alive
        yield from _completeness()
        yield from _claim_intents()
        alarms = GaugeMetricFamily("egsu_alarms_open", "Open alarms by severity", labels=["severity"])
        for provider in _ALARM_COUNTS:
            for severity, number in provider().items():
                alarms.add_metric([severity], number)
        yield alarms


def _claim_intents():
    """Open intents of ClickHouse writes by state (ADR 0013): any but "in flight" and "queued" waits for recovery."""
    from django.conf import settings

    if settings.READINGS_BACKEND != "clickhouse":
        return
    from egsu.readings.claims import INTENT_STATES
    from egsu.readings.upkeep import open_intents

    intents = open_intents(count_rows=False)
    if intents is None:  # chDB in one process: nothing is claimed
        return
    family = GaugeMetricFamily(
        "egsu_readings_claim_intents", "Open intents of ClickHouse writes by state", labels=["state"]
    )
    for state in INTENT_STATES:
        family.add_metric([state], sum(1 for intent in intents if intent.state == state))
    yield family


def _completeness():
    """Yesterday's national arrivals (Astana day): expected, arrived, on time, missing; completeness %."""
    from egsu.monitoring.summaries import arrivals_summary
    from egsu.reporting.services import SYSTEM_SCOPE
    from egsu_core.clock import to_astana, utcnow

    day = (to_astana(utcnow()) - timedelta(days=1)).date()
    rows = arrivals_summary(SYSTEM_SCOPE, start=day, end=day, group_by="national")
    slots = GaugeMetricFamily(
        "egsu_arrivals_slots", "Yesterday's (Astana) national slots by state", labels=["state"]
    )
    percent = GaugeMetricFamily(
        "egsu_arrivals_completeness_percent",
        "Yesterday's national completeness and timeliness",
        labels=["kind"],
    )
    row = rows[0] if rows else None
    if row is not None:
        for state in ("expected", "arrived", "on_time", "late", "missing", "rejected"):
            slots.add_metric([state], getattr(row, state))
        percent.add_metric(["completeness"], row.completeness if row.completeness is not None else 100.0)
        percent.add_metric(["timeliness"], row.timeliness if row.timeliness is not None else 100.0)
    yield slots
    yield percent


class _ThisProcess:
    """This process's own metrics, when the server runs without PROMETHEUS_MULTIPROC_DIR."""

    def collect(self):
        from prometheus_client import REGISTRY

        yield from REGISTRY.collect()


def exposition() -> bytes:
    """The text /metrics serves: every process's counters (or this one's) and the database's figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector())
    return generate_latest(registry)


def clean_multiprocess_dir(directory: str) -> None:
    """Remove the files of processes that are gone (a restart's leftovers); a live process's stay."""
    from pathlib import Path

    from prometheus_client import multiprocess

    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for file in path.glob("*.db"):
        pid = file.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            multiprocess.mark_process_dead(int(pid), str(path))
            file.unlink(missing_ok=True)
