"""Claim, run and settle one job (decision 0007): the part every worker, and the inline mode, share.

A claim is a compare-and-set on the row (status READY → RUNNING, a fresh claim token, a lease);
on PostgreSQL the candidate is first locked with SKIP LOCKED so workers do not queue on one row.
Settling (done, retry, failed) is fenced by the claim token: a worker whose lease ran out and whose
job was taken over cannot mark it done a second time. Jobs themselves are idempotent (style.md),
so the run that takes over simply does the work again.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from contextvars import ContextVar
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils.module_loading import import_string
from django_tasks.base import Task, TaskContext
from django_tasks.utils import normalize_json

from egsu.jobs.models import Job
from egsu.jobs.registry import options_for
from egsu.jobs.results import result_of
from egsu_core.clock import utcnow

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = timedelta(hours=1)
_current: ContextVar[tuple[int, str] | None] = ContextVar("egsu_current_job", default=None)


def progress(done: int, total: int | None = None, note: str | None = None) -> None:
    """Record the running job's progress on its row (for `egsu jobs` and the operations page).

    Outside a job (a direct call, a test) it does nothing, so services may call it freely.
    """
    current = _current.get()
    if current is None:
        return
    changes: dict = {"progress_done": max(0, int(done))}
    if total is not None:
        changes["progress_total"] = max(0, int(total))
    if note is not None:
        changes["progress_note"] = note[:200]
    Job.objects.filter(pk=current[0], claim=current[1]).update(**changes)


def current_job_id() -> int | None:
    current = _current.get()
    return None if current is None else current[0]


def ready_jobs(queues: list[str] | None = None, now: datetime | None = None):
    ready = Job.objects.filter(status=Job.Status.READY, run_after__lte=now or utcnow())
    return ready.filter(queue__in=queues) if queues else ready


def claim_job(job_id: int, worker_id: str, lease: timedelta) -> Job | None:
    """Take one READY job (compare-and-set); None if someone else took it first."""
    now = utcnow()
    token = secrets.token_hex(16)
    taken = Job.objects.filter(pk=job_id, status=Job.Status.READY).update(
        status=Job.Status.RUNNING, worker=worker_id[:80], claim=token, lease_until=now + lease,
        attempts=F("attempts") + 1, started_at=now,
    )  # fmt: skip
    return Job.objects.get(pk=job_id) if taken else None


def claim_next(worker_id: str, lease: timedelta, queues: list[str] | None = None) -> Job | None:
    """The most urgent ready job of these queues, claimed; None when there is none (or it was taken)."""
    ready = ready_jobs(queues)
    if not ready.exists():  # a read first: on SQLite an idle poll must not take the write lock
        return None
    with transaction.atomic():
        candidate = (
            ready.order_by("-priority", "run_after", "pk")
            .select_for_update(skip_locked=True)
            .only("pk")
            .first()
        )
        return None if candidate is None else claim_job(candidate.pk, worker_id, lease)


def resolve(task_path: str) -> Task:
    found = import_string(task_path)
    if not isinstance(found, Task):
        raise TypeError(f"{task_path} is not a task")
    return found


def execute(job: Job) -> str:
    """Run a claimed job and settle it; returns the status it ended in (or "LOST")."""
    token = _current.set((job.pk, job.claim))
    try:
        task = resolve(job.task_path)
        if task.takes_context:
            value = task.call(TaskContext(task_result=result_of(job)), *job.args, **job.kwargs)
        else:
            value = task.call(*job.args, **job.kwargs)
        value = normalize_json(value)
    except Exception as exc:  # the job's own failure: recorded, retried with backoff up to max_attempts
        log.warning("job %s (%s) failed on attempt %s: %s", job.pk, job.task_path, job.attempts, exc)
        return _settle_failure(job, exc)
    finally:
        _current.reset(token)
    return _settle(job, status=Job.Status.SUCCESSFUL, result=value, finished_at=utcnow())


def _settle(job: Job, **changes) -> str:
    settled = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, claim=job.claim).update(
        lease_until=None, **changes
    )
    if not settled:
        log.warning("job %s: the lease was lost while it ran; another worker owns it now", job.pk)
        return "LOST"
    return changes["status"]


def _settle_failure(job: Job, exc: Exception) -> str:
    error = "".join(traceback.format_exception(exc))[-4000:]
    if job.attempts >= job.max_attempts:
        return _settle(job, status=Job.Status.FAILED, error=error, finished_at=utcnow())
    delay = min(options_for(job.task_path).retry_after * 2 ** (job.attempts - 1), MAX_RETRY_DELAY)
    return _settle(job, status=Job.Status.READY, error=error, run_after=utcnow() + delay, worker="", claim="")


def reap_expired(now: datetime | None = None) -> int:
    """Jobs whose worker stopped heartbeating go back to the queue (or fail, out of attempts)."""
    now = now or utcnow()
    expired = Job.objects.filter(status=Job.Status.RUNNING, lease_until__lt=now)
    if not expired.exists():
        return 0
    note = Concat(Value("the worker "), F("worker"), Value(" stopped while running it (its lease ran out)"))
    with transaction.atomic():
        spent = expired.filter(attempts__gte=F("max_attempts")).update(
            status=Job.Status.FAILED, finished_at=now, lease_until=None, claim="", error=note
        )
        requeued = expired.update(
            status=Job.Status.READY, run_after=now, lease_until=None, claim="", worker="", error=note
        )
    if spent or requeued:
        log.warning("reaped %s job(s) of stopped workers: %s requeued, %s out of attempts", spent + requeued,
                    requeued, spent)  # fmt: skip
    return spent + requeued


def extend_leases(worker_id: str, lease: timedelta) -> int:
    return Job.objects.filter(status=Job.Status.RUNNING, worker=worker_id).update(
        lease_until=utcnow() + lease
    )


def release(worker_id: str) -> int:
    """A worker forced to stop hands its running jobs back at once (the attempt does not count)."""
    return Job.objects.filter(status=Job.Status.RUNNING, worker=worker_id).update(
        status=Job.Status.READY, run_after=utcnow(), lease_until=None, claim="", worker="",
        attempts=F("attempts") - 1, error="the worker was stopped while running it",
    )  # fmt: skip
