"""An alarm is one condition's record; its history says who saw what and when."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from egsu.choices import alarm_state_choices, energy_choices, severity_choices
from egsu.points.models import MeteringPoint
from egsu.registry.models import Subject
from egsu.vocabulary import AlarmState


class Alarm(models.Model):
    """One condition (source + key): open → acknowledged → closed, reopened when it returns.

    Repeated occurrences while active fold into the same row (`count`, `last_seen`), so a meter that
    reports the same event every quarter hour raises one alarm, not a storm (MON-06).
    """

    source = models.CharField(_("source"), max_length=40, db_index=True)
    key = models.CharField(_("condition"), max_length=200)
    severity = models.CharField(_("severity"), max_length=16, choices=severity_choices(), db_index=True)
    state = models.CharField(_("state"), max_length=16, choices=alarm_state_choices(), db_index=True)
    title = models.CharField(_("title"), max_length=300)
    subject = models.ForeignKey(
        Subject,
        verbose_name=_("subject"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alarms",
    )
    point = models.ForeignKey(
        MeteringPoint, verbose_name=_("metering point"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="alarms",
    )  # fmt: skip
    energy = models.CharField(_("energy"), max_length=16, choices=energy_choices(), blank=True, db_index=True)
    region = models.CharField(_("region"), max_length=100, blank=True, db_index=True)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"), db_index=True)
    count = models.PositiveIntegerField(_("occurrences"), default=1)
    opened_at = models.DateTimeField(_("opened"), db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("acknowledged by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    comment = models.TextField(_("comment"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-last_seen"]
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="alarms_one_per_condition")]
        indexes = [models.Index(fields=["state", "severity"], name="alarms_state_severity")]

    def __str__(self) -> str:
        return self.title

    @property
    def active(self) -> bool:
        return AlarmState(self.state).active


class AlarmEntry(models.Model):
    """The alarm's history: raised, repeated (folded), acknowledged, closed, reopened — never edited."""

    class Action(models.TextChoices):
        RAISED = "raised", _("raised")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        CLOSED = "closed", _("closed")
        REOPENED = "reopened", _("reopened")
        ESCALATED = "escalated", _("severity raised")

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="entries")
    at = models.DateTimeField(_("time"))
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    state = models.CharField(_("state"), max_length=16, choices=alarm_state_choices())
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("alarm history entry")
        verbose_name_plural = _("alarm history")
        ordering = ["at", "id"]


ACTIVE_STATES = (AlarmState.OPEN.value, AlarmState.ACKNOWLEDGED.value)
