"""The durable queue in one process: enqueue, claim, run, retry with backoff, leases, fencing, inline mode."""

from __future__ import annotations

from datetime import timedelta

import pytest

from egsu.access.models import AuditEvent
from egsu.jobs import runner, services
from egsu.jobs.models import Job
from egsu_core.clock import utcnow
from tests.jobs.tasks import always_fails, counts_up, fails_first, record, rows

LEASE = timedelta(seconds=60)
pytestmark = pytest.mark.django_db


def test_a_queued_job_is_a_row_that_waits_for_a_worker(real_queue):
    result = record.enqueue("a", seconds=0)
    job = Job.objects.get(pk=int(result.id))
    assert (job.status, job.task_path, job.args, job.kwargs, job.attempts, job.max_attempts) == (
        "READY", "tests.jobs.tasks.record", ["a"], {"seconds": 0}, 0, 3,
    )  # fmt: skip
    assert record.get_result(result.id).status == "READY"


def test_a_worker_claims_runs_and_settles_a_job(real_queue, effect_tables):
    result = record.enqueue("b")
    job = runner.claim_next("w1", LEASE)
    assert (job.pk, job.status, job.worker, job.attempts) == (int(result.id), "RUNNING", "w1", 1)
    assert job.lease_until > utcnow() + timedelta(seconds=50)
    assert runner.claim_next("w2", LEASE) is None  # nothing else is ready
    assert runner.execute(job) == "SUCCESSFUL"
    job.refresh_from_db()
    assert (job.status, job.lease_until, job.finished_at is not None) == ("SUCCESSFUL", None, True)
    assert [key for key, _pid in rows("jobs_test_effect")] == ["b"]
    assert record.get_result(result.id).return_value == job.result


def test_progress_is_recorded_on_the_row(real_queue):
    counts_up.enqueue(4)
    job = runner.claim_next("w1", LEASE)
    runner.execute(job)
    job.refresh_from_db()
    assert (job.progress_done, job.progress_total, job.progress_note, job.percent) == (4, 4, "step 4", 100)


def test_priority_and_queues_decide_what_is_claimed(real_queue):
    low = counts_up.enqueue(1)
    high = counts_up.using(priority=10).enqueue(1)
    mail = counts_up.using(queue_name="mail").enqueue(1)
    assert runner.claim_next("w", LEASE, queues=["mail"]).pk == int(mail.id)
    assert runner.claim_next("w", LEASE, queues=["default"]).pk == int(high.id)
    assert runner.claim_next("w", LEASE).pk == int(low.id)


def test_a_deferred_job_waits_for_its_time(real_queue):
    counts_up.using(run_after=utcnow() + timedelta(minutes=5)).enqueue(1)
    assert runner.claim_next("w", LEASE) is None


def test_a_failing_job_is_retried_with_backoff_then_failed(real_queue):
    result = always_fails.enqueue()
    delays = []
    for attempt in (1, 2, 3):
        job = runner.claim_job(int(result.id), "w", LEASE)
        assert job.attempts == attempt
        status = runner.execute(job)
        job.refresh_from_db()
        assert "ValueError: this job always fails" in job.error
        if attempt < 3:
            assert status == "READY" and job.worker == ""
            delays.append(round((job.run_after - utcnow()).total_seconds()))
            Job.objects.filter(pk=job.pk).update(run_after=utcnow())  # the test does not wait
        else:
            assert (status, job.status) == ("FAILED", "FAILED")
    assert delays == [30, 60]  # retry_after, doubled


def test_a_job_that_fails_once_succeeds_on_its_second_attempt(real_queue, effect_tables):
    fails_first.enqueue("flaky")
    assert runner.execute(runner.claim_next("w", LEASE)) == "READY"
    job = runner.claim_next("w", LEASE)
    assert runner.execute(job) == "SUCCESSFUL"
    job.refresh_from_db()
    assert (job.attempts, job.result) == (2, "second time lucky")
    assert "the first attempt fails" in job.error  # the history of the first attempt stays readable


def test_an_expired_lease_puts_the_job_back_and_fences_the_old_run(real_queue, effect_tables):
    # given a job claimed by worker 1, whose heartbeat stopped (the lease ran out)
    record.enqueue("fenced")
    first = runner.claim_next("w1", LEASE)
    Job.objects.filter(pk=first.pk).update(lease_until=utcnow() - timedelta(seconds=1))
    # when any worker reaps, and worker 2 takes the job over and finishes it
    assert runner.reap_expired() == 1
    requeued = Job.objects.get(pk=first.pk)
    assert (requeued.status, requeued.worker) == ("READY", "")
    assert "the worker w1 stopped while running it" in requeued.error
    second = runner.claim_next("w2", LEASE)
    assert runner.execute(second) == "SUCCESSFUL"
    # then worker 1, had it only been paused, cannot settle the job a second time
    assert runner._settle(first, status="SUCCESSFUL", result=None, finished_at=utcnow()) == "LOST"
    final = Job.objects.get(pk=first.pk)
    assert (final.status, final.worker, final.attempts) == ("SUCCESSFUL", "w2", 2)


def test_a_job_out_of_attempts_fails_when_its_last_worker_dies(real_queue):
    counts_up.enqueue(1)
    job = runner.claim_next("w1", LEASE)
    Job.objects.filter(pk=job.pk).update(attempts=3, lease_until=utcnow() - timedelta(seconds=1))
    runner.reap_expired()
    job.refresh_from_db()
    assert (job.status, job.finished_at is not None) == ("FAILED", True)


def test_the_heartbeat_extends_leases_and_a_forced_stop_hands_jobs_back(real_queue):
    counts_up.enqueue(1)
    job = runner.claim_next("w1", timedelta(seconds=5))
    assert runner.extend_leases("w1", LEASE) == 1
    assert Job.objects.get(pk=job.pk).lease_until > utcnow() + timedelta(seconds=50)
    assert runner.release("w1") == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, job.worker) == ("READY", 0, "")


def test_inline_mode_runs_the_job_as_it_is_queued(effect_tables):
    # the tests' default (tests/conftest.py): same claim, run and settle path as a worker
    result = record.enqueue("inline")
    assert result.status == "SUCCESSFUL"
    assert Job.objects.get(pk=int(result.id)).worker == "inline"


def test_an_operator_queues_a_failed_job_again_and_it_is_audited(real_queue, django_user_model):
    job = Job.objects.create(task_path="tests.jobs.tasks.counts_up", args=[1], status="FAILED", attempts=3,
                             max_attempts=3, run_after=utcnow(), enqueued_at=utcnow(), finished_at=utcnow())  # fmt: skip
    admin = django_user_model.objects.create_superuser("root", "", "x" * 12)
    services.retry(job, actor=admin, source="test")
    job.refresh_from_db()
    assert (job.status, job.max_attempts, job.finished_at) == ("READY", 4, None)
    assert AuditEvent.objects.get(event="jobs.retried").object_id == str(job.pk)
    with pytest.raises(services.NotRetriable):
        services.retry(job)
