"""Export jobs: a row the UI and the CLI read for status and progress (style.md: jobs record progress)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    class What(models.TextChoices):
        READINGS = "readings", _("readings")
        DEVICES = "devices", _("devices")

    class Format(models.TextChoices):
        XLSX = "xlsx", _("Excel")
        PDF = "pdf", _("PDF")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_jobs", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created"))
    what = models.CharField(_("what"), max_length=20, choices=What.choices)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    params = models.JSONField(_("filters"), default=dict, help_text=_("The screen's filters, as sent."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    file_name = models.CharField(_("file"), max_length=200, blank=True, help_text=_("Under the exports dir."))
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rows_done__lte=models.F("rows_total")),
                name="reports_job_done_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.what}.{self.format} #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(self.rows_done * 100 / self.rows_total) if self.rows_total else 0
