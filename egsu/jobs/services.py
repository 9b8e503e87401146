"""What the CLI, the operations page and (later) readiness checks ask of the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min, Q

from egsu.access import audit as trail
from egsu.access.audit import Event
from egsu.jobs.models import Job, PeriodicRun, Worker
from egsu_core.clock import utcnow

# How long finished rows are kept: done jobs a month, failed ones half a year (the operator may look).
KEEP_DONE = timedelta(days=30)
KEEP_FAILED = timedelta(days=180)
KEEP_WORKERS = timedelta(days=30)


@dataclass(frozen=True)
class Health:
    workers_alive: int  # worker processes whose heartbeat is fresh
    schedulers_alive: int
    ready: int  # jobs waiting that could run now
    running: int
    failed_last_day: int
    oldest_ready_age_s: float | None
    last_heartbeat_job_at: datetime | None  # the periodic heartbeat job's last finish

    @property
    def ok(self) -> bool:
        return self.workers_alive > 0 and self.schedulers_alive > 0


def alive_since(now: datetime | None = None) -> datetime:
    """A worker last seen after this instant is alive (three heartbeats of slack)."""
    return (now or utcnow()) - timedelta(seconds=3 * settings.CONFIG.jobs_heartbeat_s)


def live_workers(now: datetime | None = None):
    return Worker.objects.filter(stopped_at__isnull=True, last_seen_at__gte=alive_since(now))


def health(now: datetime | None = None) -> Health:
    now = now or utcnow()
    alive = live_workers(now)
    ready = Job.objects.filter(status=Job.Status.READY, run_after__lte=now)
    oldest = ready.aggregate(oldest=Min("enqueued_at"))["oldest"]
    beat = (
        Job.objects.filter(task_path="egsu.jobs.tasks.heartbeat", status=Job.Status.SUCCESSFUL)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return Health(
        workers_alive=alive.exclude(queues="").count(),
        schedulers_alive=alive.filter(schedules=True).count(),
        ready=ready.count(),
        running=Job.objects.filter(status=Job.Status.RUNNING).count(),
        failed_last_day=Job.objects.filter(
            status=Job.Status.FAILED, finished_at__gte=now - timedelta(days=1)
        ).count(),
        oldest_ready_age_s=(now - oldest).total_seconds() if oldest else None,
        last_heartbeat_job_at=beat,
    )


def last_runs() -> dict[str, PeriodicRun]:
    """The latest scheduled period of each periodic job, by name."""
    latest: dict[str, PeriodicRun] = {}
    for run in PeriodicRun.objects.select_related("job").order_by("name", "-period_start"):
        latest.setdefault(run.name, run)
    return latest


class NotRetriable(ValueError):
    """Only a failed job can be queued again by hand."""


def retry(job: Job, *, actor=None, request=None, source: str = "") -> Job:
    """Queue a failed job again for one more attempt (audited)."""
    now = utcnow()
    updated = Job.objects.filter(pk=job.pk, status=Job.Status.FAILED).update(
        status=Job.Status.READY, run_after=now, finished_at=None, worker="", claim="",
        max_attempts=job.attempts + 1,
    )  # fmt: skip
    if not updated:
        raise NotRetriable(f"job {job.pk} is {job.status}, not failed")
    trail.audit(Event.JOB_RETRIED, actor=actor, obj=job, request=request, source=source,
                summary=f"{job.name} queued again after {job.attempts} attempt(s)")  # fmt: skip
    job.refresh_from_db()
    return job


def prune_history(*, now: datetime | None = None, source: str = "") -> dict:
    """Delete finished jobs, scheduled periods and stopped workers past their keeping time (audited)."""
    now = now or utcnow()
    finished = Q(status=Job.Status.SUCCESSFUL, finished_at__lt=now - KEEP_DONE) | Q(
        status=Job.Status.FAILED, finished_at__lt=now - KEEP_FAILED
    )
    jobs, _ = Job.objects.filter(finished).delete()
    runs, _ = PeriodicRun.objects.filter(period_start__lt=now - KEEP_FAILED).delete()
    workers, _ = Worker.objects.filter(last_seen_at__lt=now - KEEP_WORKERS).delete()
    counts = {"jobs": jobs, "periodic_runs": runs, "workers": workers}
    if any(counts.values()):
        trail.audit(Event.JOBS_PRUNED, object_type="jobs.job", source=source, after=counts,
                    summary=f"{jobs} finished jobs, {runs} periodic runs, {workers} workers deleted")  # fmt: skip
    return counts
