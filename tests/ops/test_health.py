"""Health, readiness and metrics (issue 17 item 2; DIG-22 central monitoring, DIG-23/24 diagnostics)."""

from __future__ import annotations

import pytest
from django.test import Client
from typer.testing import CliRunner

from egsu.jobs.models import Job, Worker
from egsu_core.clock import utcnow

TOKEN = "scrape-token-for-tests-0123456789"


def _workers_alive() -> None:
    """What a running `egsu worker --schedule` leaves in the database: its heartbeat row and the
    periodic heartbeat job's finish."""
    now = utcnow()
    Worker.objects.create(
        worker_id="w-1",
        hostname="test",
        pid=1,
        queues="default",
        schedules=True,
        started_at=now,
        last_seen_at=now,
    )
    Job.objects.create(
        task_path="egsu.jobs.tasks.heartbeat",
        status="SUCCESSFUL",
        run_after=now,
        enqueued_at=now,
        finished_at=now,
    )


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"


@pytest.mark.django_db
def test_readyz_names_every_part_and_is_503_until_a_worker_lives():
    # given no worker process has ever started
    response = Client().get("/readyz")
    # then the server is not ready, and says which part fails and why
    assert response.status_code == 503
    body = response.json()
    states = {c["name"]: c["state"] for c in body["checks"]}
    assert list(states) == [
        "database", "clickhouse", "claims", "mqtt broker", "workers", "signing key", "trust store",
        "revocation sources", "gost hashes",
    ]  # fmt: skip
    assert states["database"] == "ok" and states["workers"] == "fail"
    assert states["gost hashes"] == "ok"  # make install builds the compiled hashes
    assert states["signing key"] == "ok" and states["trust store"] == "ok"
    assert states["clickhouse"] == "off" and states["mqtt broker"] == "off"  # not configured here
    assert states["claims"] == "off"
    # when a worker and a scheduler beat
    _workers_alive()
    # then it is ready
    response = Client().get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["ready"] is True


@pytest.mark.parametrize("module", ["gost3411_94", "streebog"])
def test_pure_python_gost_hashes_are_a_warning_that_says_how_to_mend_it(monkeypatch, module):
    from importlib import import_module

    from egsu.ops import checks

    monkeypatch.setattr(import_module(f"egsu_core.pki.gost.{module}"), "IMPLEMENTATION", "python")
    found = checks.gost_hashes()
    assert found.state == checks.WARN and found.ready  # slow, not broken: still ready
    assert "pure Python" in found.detail and "make install" in found.detail


@pytest.mark.django_db
def test_readyz_checks_the_broker_when_one_is_configured(monkeypatch):
    from egsu.ops import checks

    monkeypatch.setenv("EGSU_MQTT_HOST", "127.0.0.1")
    monkeypatch.setenv("EGSU_MQTT_PORT", "1883")
    assert checks.broker().state == "ok"  # the Mosquitto on loopback answers CONNECT with CONNACK
    monkeypatch.setenv("EGSU_MQTT_PORT", "1")  # nothing listens there
    assert [c.state for c in checks.run_all() if c.name == "mqtt broker"] == ["fail"]


def test_egsu_doctor_prints_the_checks_and_exits_1_when_not_ready(transactional_db):
    from egsu.cli.app import app

    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1, result.output
    assert "workers" in result.output and "signing key" in result.output and "not ready" in result.output
    _workers_alive()
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output


def test_metrics_are_protected_and_count_both_feeds(stand, identity, settings):
    from dataclasses import replace

    from prometheus_client.parser import text_string_to_metric_families

    from tests.ops.conftest import push_both_feeds

    settings.CONFIG = replace(settings.CONFIG, metrics_token=TOKEN)
    client = Client()
    # without a token or a login: refused
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401

    def scrape() -> dict[tuple, float]:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.content.decode())
            for s in family.samples
        }

    before = scrape()
    # when both feeds receive data
    pushed = push_both_feeds(stand, identity)
    assert pushed.isun_codes == ["SCSS001", "SCSS001"] and pushed.ami_status == [200, 200]
    after = scrape()

    def grew(name: str, **labels) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    # then messages, values, latency and signature verdicts are counted per feed and verdict
    assert grew("egsu_intake_messages_total", feed="isun", verdict="SCSS001") == 2
    assert grew("egsu_intake_messages_total", feed="ami", verdict="stored") == 2
    assert grew("egsu_intake_values_total", feed="ami", verdict="new") == pushed.ami_values
    assert grew("egsu_intake_values_total", feed="isun", verdict="accepted") >= 2
    assert grew("egsu_intake_seconds_count", feed="isun") == 2
    assert grew("egsu_intake_seconds_count", feed="ami") == 2
    assert grew("egsu_signature_verdicts_total", verdict="valid") == 2
    assert sum(v for (name, _), v in after.items() if name == "egsu_revocation_checks_total") > sum(
        v for (name, _), v in before.items() if name == "egsu_revocation_checks_total"
    )
    # and the database's figures are read at the scrape
    assert ("egsu_jobs_ready", ()) in after and ("egsu_jobs_oldest_ready_age_seconds", ()) in after
    assert ("egsu_arrivals_completeness_percent", (("kind", "completeness"),)) in after


def test_the_alarms_app_can_plug_in_its_counts_by_severity(db):
    from egsu.ops import metrics

    def counts():
        return {"critical": 1, "warning": 3}

    metrics.register_open_alarms_by_severity(counts)
    try:
        text = metrics.exposition().decode()
    finally:
        metrics._ALARM_COUNTS.remove(counts)
    assert 'egsu_alarms_open{severity="critical"} 1.0' in text
    assert 'egsu_alarms_open{severity="warning"} 3.0' in text
