"""Real `egsu worker` processes over the test database: they run the queue, stop cleanly, survive a kill
of one of them, and run each periodic job once per period however many of them schedule."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest

from egsu.jobs.models import Job, PeriodicRun, Worker
from tests.jobs.conftest import wait_for
from tests.jobs.tasks import fails_first, record, rows


def _job(result) -> Job:
    return Job.objects.get(pk=int(result.id))


def test_a_worker_runs_what_is_queued_then_exits_with_once(workers, effect_tables):
    # given three jobs and one that fails on its first attempt
    queued = [record.enqueue(key) for key in ("a", "b", "c")] + [fails_first.enqueue("d")]
    # when one worker process runs with --once
    done = workers.run("worker", "--once")
    # then every job ran to completion in that process, the flaky one on its second attempt
    assert done.returncode == 0, done.stderr
    assert [(_job(r).status, _job(r).attempts) for r in queued] == [("SUCCESSFUL", 1)] * 3 + [
        ("SUCCESSFUL", 2)
    ]
    pids = {pid for _key, pid in rows("jobs_test_effect")}
    assert [key for key, _pid in rows("jobs_test_effect")] == ["a", "b", "c"] and len(pids) == 1
    assert pids != {os.getpid()}
    worker = Worker.objects.get()
    assert (worker.jobs_done, worker.stopped_at is not None) == (5, True)


def test_a_stopped_worker_finishes_its_running_job_first(workers, effect_tables):
    process = workers.start("worker")
    result = record.enqueue("slow", seconds=2)
    wait_for(lambda: rows("jobs_test_started"), timeout=30, what="the job to start", logs=workers.logs)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert _job(result).status == "SUCCESSFUL" and [k for k, _ in rows("jobs_test_effect")] == ["slow"]
    assert Worker.objects.get().stopped_at is not None


def test_a_worker_out_of_grace_hands_its_job_back(workers, effect_tables):
    process = workers.start("worker", "--grace", "1")
    result = record.enqueue("endless", seconds=120)
    wait_for(lambda: rows("jobs_test_started"), timeout=30, what="the job to start", logs=workers.logs)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 1
    job = _job(result)
    assert (job.status, job.attempts, job.worker) == ("READY", 0, "")
    assert rows("jobs_test_effect") == []


@pytest.mark.postgres
def test_a_job_of_a_killed_worker_is_finished_once_by_another(workers, effect_tables):
    # given two workers, and a job that takes a few seconds before its one side effect
    pool = {p.pid: p for p in (workers.start("worker"), workers.start("worker"))}
    result = record.enqueue("kill-9", seconds=4)
    # when the worker that started it is killed outright in the middle
    started = wait_for(
        lambda: rows("jobs_test_started"), timeout=30, what="the job to start", logs=workers.logs
    )
    victim = started[0][1]
    os.kill(victim, signal.SIGKILL)
    pool[victim].wait(timeout=10)
    # then, once its lease runs out, the other worker runs the job again and completes it, once
    wait_for(lambda: _job(result).status == "SUCCESSFUL", timeout=60, what="the retry", logs=workers.logs)
    (survivor,) = set(pool) - {victim}
    job = _job(result)
    assert rows("jobs_test_effect") == [("kill-9", survivor)]
    assert sorted(pid for _key, pid in rows("jobs_test_started")) == sorted([victim, survivor])
    assert job.attempts == 2 and job.worker.split(":")[1] == str(survivor)
    assert f":{victim}:" in job.error and "stopped while running it" in job.error


@pytest.mark.postgres
def test_two_workers_run_each_periodic_job_once_per_period(workers, effect_tables):
    # given two workers that both schedule the fast test schedule (periods of 2 and 3 seconds)
    args = ("worker", "--schedule", "--schedule-from", "tests.jobs.schedule:FAST")
    pool = [workers.start(*args), workers.start(*args)]
    wait_for(lambda: Worker.objects.count() == 2, timeout=60, what="both workers", logs=workers.logs)
    # when they run side by side for a while
    time.sleep(9)
    for process in pool:
        process.send_signal(signal.SIGTERM)
    assert [p.wait(timeout=30) for p in pool] == [0, 0], workers.logs()
    assert workers.run("worker", "--once").returncode == 0  # whatever was queued at the end
    # then every period of every job was queued once and ran once
    ran = Counter((name, start) for name, start, _pid in rows("jobs_test_period"))
    assert ran and set(ran.values()) == {1}, ran
    scheduled = {(r.name, r.period_start.isoformat()) for r in PeriodicRun.objects.all()}
    assert set(ran) == scheduled
    per_job = Counter(name for name, _start in ran)
    assert per_job["test.every-2s"] >= 3 and per_job["test.every-3s"] >= 2, per_job  # several periods passed
    assert set(Job.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert Worker.objects.filter(schedules=True).count() == 2
