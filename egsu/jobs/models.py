"""The durable queue: one row per job (status and progress the CLI and the UI show), the periods
already scheduled, and the workers' heartbeats (decision 0007)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """A queued call of a django-tasks Task. A worker holds it under a lease that its heartbeat
    extends; a lease that runs out (the worker died) puts the job back in the queue."""

    class Status(models.TextChoices):
        # The values are django-tasks' TaskResultStatus names, so results map one to one.
        READY = "READY", _("waiting")
        RUNNING = "RUNNING", _("running")
        SUCCESSFUL = "SUCCESSFUL", _("done")
        FAILED = "FAILED", _("failed")

    task_path = models.CharField(_("task"), max_length=200, help_text=_("Module path of the task."))
    queue = models.CharField(_("queue"), max_length=32, default="default")
    priority = models.SmallIntegerField(_("priority"), default=0)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.READY)
    run_after = models.DateTimeField(_("not before"), help_text=_("Retries wait until then."))
    enqueued_at = models.DateTimeField(_("queued"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("attempts allowed"), default=3)
    worker = models.CharField(_("worker"), max_length=80, blank=True, help_text=_("Who holds it now."))
    claim = models.CharField(max_length=32, blank=True, editable=False)  # fences a lost lease's completion
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    progress_done = models.PositiveIntegerField(_("done"), default=0)
    progress_total = models.PositiveIntegerField(_("total"), default=0)
    progress_note = models.CharField(_("note"), max_length=200, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-enqueued_at", "-pk"]
        indexes = [
            models.Index(
                fields=["queue", "-priority", "run_after"], name="jobs_ready_idx", condition=Q(status="READY")
            ),
            models.Index(fields=["lease_until"], name="jobs_lease_idx", condition=Q(status="RUNNING")),
            models.Index(fields=["status", "finished_at"], name="jobs_finished_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=-100, priority__lte=100), name="jobs_priority_range"
            ),
            models.CheckConstraint(
                condition=~Q(status="RUNNING") | Q(lease_until__isnull=False), name="jobs_running_has_lease"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.status})"

    @property
    def name(self) -> str:
        return self.task_path.rsplit(".", 1)[-1]

    @property
    def percent(self) -> int | None:
        if self.status == self.Status.SUCCESSFUL:
            return 100
        if not self.progress_total:
            return None
        return min(100, int(self.progress_done * 100 / self.progress_total))


class PeriodicRun(models.Model):
    """A period of a periodic job that was scheduled: the unique key makes it once per period,
    whichever scheduler (on whichever server) got there first."""

    name = models.CharField(_("periodic job"), max_length=80)
    period_start = models.DateTimeField(_("period start"))
    scheduled_at = models.DateTimeField(_("scheduled"))
    scheduled_by = models.CharField(_("by"), max_length=80, blank=True)
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("periodic run")
        verbose_name_plural = _("periodic runs")
        ordering = ["-period_start", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "period_start"], name="jobs_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.period_start:%Y-%m-%d %H:%M:%S}"


class Worker(models.Model):
    """A running (or stopped) `egsu worker` process: its heartbeat tells readiness checks it lives."""

    worker_id = models.CharField(_("worker"), max_length=80, unique=True)
    hostname = models.CharField(_("host"), max_length=200)
    pid = models.PositiveIntegerField(_("process"))
    queues = models.CharField(_("queues"), max_length=200)
    schedules = models.BooleanField(_("schedules"), default=False)
    started_at = models.DateTimeField(_("started"))
    last_seen_at = models.DateTimeField(_("last seen"))
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    jobs_done = models.PositiveIntegerField(_("jobs run"), default=0)

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return self.worker_id
