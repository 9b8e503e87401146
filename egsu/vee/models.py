"""Data quality (VEE) as data: the rule settings, the findings with the values they concern, the score.

A finding names its values as the readings store keys them (object_id, device_id, quantity,
interval) and the slot range it covers, so the metering point page can link to exactly those
values; it is re-evaluated, not edited: a run over a window replaces that window's findings.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from egsu.choices import severity_choices
from egsu.points.models import MeteringPoint
from egsu.registry.models import Subject
from egsu.vee.catalogue import SPECS

RULE_CHOICES = [(code.value, spec.label) for code, spec in SPECS.items()]


class RuleSetting(models.Model):
    """A rule's switch and parameters for all values, a device type, a quantity or one point.

    The most specific setting that matches wins for each key (point, then device type and quantity
    together, then device type, then quantity, then the rule's base row); parameters merge from the
    least to the most specific, so a point's row may change one tolerance and inherit the rest.
    """

    code = models.CharField(_("rule"), max_length=32, choices=RULE_CHOICES, db_index=True)
    quantity = models.CharField(_("quantity"), max_length=32, blank=True)
    device_type = models.CharField(
        _("device type"), max_length=32, blank=True,
        help_text=_("A device type id (1, 2, 10, 11) or a meter type (1P, 3P-CT, HM, …)."),
    )  # fmt: skip
    point = models.ForeignKey(
        MeteringPoint, verbose_name=_("metering point"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="+",
    )  # fmt: skip
    enabled = models.BooleanField(_("enabled"), default=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    alarm_severity = models.CharField(
        _("alarm severity"), max_length=16, choices=severity_choices(), blank=True,
        help_text=_("Findings raise an alarm of this severity; empty: no alarm."),
    )  # fmt: skip

    class Meta:
        verbose_name = _("quality rule setting")
        verbose_name_plural = _("quality rule settings")
        ordering = ["code", "point_id", "device_type", "quantity"]
        constraints = [  # one row per scope (partial constraints: NULL points never compare equal)
            models.UniqueConstraint(
                fields=["code", "quantity", "device_type"],
                condition=models.Q(point__isnull=True),
                name="vee_rule_setting_unique",
            ),
            models.UniqueConstraint(
                fields=["code", "quantity", "device_type", "point"],
                condition=models.Q(point__isnull=False),
                name="vee_rule_setting_point_unique",
            ),
        ]

    def __str__(self) -> str:
        scope = (
            self.point_id
            and f"point {self.point_id}"
            or "/".join(part for part in (self.device_type, self.quantity) if part)
            or "all"
        )
        return f"{self.code} ({scope})"

    @property
    def specificity(self) -> int:
        if self.point_id:
            return 4
        return (2 if self.device_type else 0) + (1 if self.quantity else 0)


class Finding(models.Model):
    """What a rule found about a run of values of one series (or one facility's balance)."""

    rule = models.CharField(_("rule"), max_length=32, choices=RULE_CHOICES, db_index=True)
    point = models.ForeignKey(
        MeteringPoint, verbose_name=_("metering point"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="findings",
    )  # fmt: skip
    subject = models.ForeignKey(
        Subject, verbose_name=_("subject"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    energy = models.CharField(_("energy"), max_length=16, blank=True, db_index=True)
    object_id = models.CharField(_("object"), max_length=64)
    device_id = models.CharField(_("device"), max_length=64, blank=True)
    quantity = models.CharField(_("quantity"), max_length=32)
    interval = models.CharField(_("interval"), max_length=8)
    first_slot = models.DateTimeField(_("first value"), db_index=True)
    last_slot = models.DateTimeField(_("last value"))
    values = models.PositiveIntegerField(_("values"), default=1)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    severity = models.CharField(_("severity"), max_length=16, choices=severity_choices(), blank=True)
    found_at = models.DateTimeField(_("found"))

    class Meta:
        verbose_name = _("quality finding")
        verbose_name_plural = _("quality findings")
        ordering = ["-first_slot", "rule"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "object_id", "device_id", "quantity", "interval", "first_slot"],
                name="vee_finding_unique",
            )
        ]
        indexes = [models.Index(fields=["point", "first_slot"], name="vee_finding_point")]

    def __str__(self) -> str:
        return (
            f"{self.rule} {self.object_id}/{self.device_id} {self.quantity} {self.first_slot:%Y-%m-%d %H:%M}"
        )


class QualityDay(models.Model):
    """Per subject and Astana day: values checked, values flagged, and the score (share not flagged)."""

    subject = models.ForeignKey(
        Subject, verbose_name=_("subject"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    checked = models.PositiveIntegerField(_("values checked"), default=0)
    flagged = models.PositiveIntegerField(_("values flagged"), default=0)
    findings = models.PositiveIntegerField(_("findings"), default=0)
    score = models.DecimalField(_("quality score"), max_digits=5, decimal_places=2, default=100)

    class Meta:
        verbose_name = _("quality score")
        verbose_name_plural = _("quality scores")
        ordering = ["-day", "subject_id"]
        constraints = [models.UniqueConstraint(fields=["subject", "day"], name="vee_quality_day_unique")]

    def __str__(self) -> str:
        return f"{self.subject_id} {self.day}: {self.score}"


class Run(models.Model):
    """One run of the rules over a window of period starts: what it read and found, how long it took."""

    started_at = models.DateTimeField(_("started"))
    window_start = models.DateTimeField(_("window start"))
    window_end = models.DateTimeField(_("window end"))
    values = models.PositiveBigIntegerField(_("values"), default=0)
    findings = models.PositiveIntegerField(_("findings"), default=0)
    estimated = models.PositiveIntegerField(_("values estimated"), default=0)
    seconds = models.FloatField(_("duration, s"), default=0)

    class Meta:
        verbose_name = _("quality run")
        verbose_name_plural = _("quality runs")
        ordering = ["-started_at"]
