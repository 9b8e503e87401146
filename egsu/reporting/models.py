"""Reports the worker made (the library), their files per language, and who gets which by e-mail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from egsu.reporting.definitions import Frequency, Kind, Level

KIND_CHOICES = [(k.value, _(k.label)) for k in Kind]
LEVEL_CHOICES = [(v.value, _(v.label)) for v in Level]
FREQUENCY_CHOICES = [(f.value, _(f.label)) for f in Frequency]


class Report(models.Model):
    """One report of one area and period. Its figures are kept as data; files are drawn from them."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        BUILT = "built", _("built")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("report"), max_length=32, choices=KIND_CHOICES)
    frequency = models.CharField(_("frequency"), max_length=16, choices=FREQUENCY_CHOICES)
    level = models.CharField(_("level"), max_length=16, choices=LEVEL_CHOICES)
    area = models.CharField(
        _("area"), max_length=100, blank=True, help_text=_("A region, or a subject's BIN.")
    )
    area_label = models.CharField(_("area"), max_length=300, blank=True)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    reason = models.CharField(
        _("reason"), max_length=300, blank=True, help_text=_("Why an urgent report was made.")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"))
    built_at = models.DateTimeField(_("built"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-period_start", "kind", "level", "area"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "frequency", "level", "area", "period_start"],
                condition=~Q(frequency="urgent"),
                name="reporting_one_regular_report_per_period",
            ),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")),
                                   name="reporting_period_ordered"),
        ]  # fmt: skip
        indexes = [models.Index(fields=["level", "period_start"], name="reporting_level_period")]

    def __str__(self) -> str:
        return f"{self.kind} {self.frequency} {self.level} {self.area} {self.period_start}"


class ReportFile(models.Model):
    """A report drawn in one language and format, under var/reports/."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="files")
    language = models.CharField(_("language"), max_length=5)
    format = models.CharField(_("format"), max_length=8)
    file_name = models.CharField(_("file"), max_length=200)
    size = models.PositiveIntegerField(_("size"), default=0)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("report file")
        verbose_name_plural = _("report files")
        constraints = [
            models.UniqueConstraint(
                fields=["report", "language", "format"], name="reporting_one_file_per_language"
            )
        ]

    def __str__(self) -> str:
        return self.file_name


class Subscription(models.Model):
    """A user gets a report by e-mail, in the user's language, whenever one is built for this area."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    kind = models.CharField(_("report"), max_length=32, choices=KIND_CHOICES)
    frequency = models.CharField(_("frequency"), max_length=16, choices=FREQUENCY_CHOICES)
    level = models.CharField(_("level"), max_length=16, choices=LEVEL_CHOICES)
    area = models.CharField(_("area"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "frequency", "level", "area"],
                                    name="reporting_one_subscription"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind} {self.frequency} {self.level} {self.area}"
