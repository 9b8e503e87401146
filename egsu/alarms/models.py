"""An alarm is one condition's record; its history says who saw what and when."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from egsu.choices import alarm_state_choices, energy_choices, severity_choices
from egsu.points.models import MeteringPoint
from egsu.registry.models import Subject
from egsu_core.vocabulary import AlarmState


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


class Subscription(models.Model):
    """Who is told about which alarms, and how (issue 14 item 4): one per user.

    Alarms reach a user only through the gate (egsu.access.scope.alarms): a subscription narrows
    what the user may see, never widens it. Empty subjects and regions mean "all in my scope".
    """

    class Delivery(models.TextChoices):
        IMMEDIATE = "immediate", _("at once")
        DIGEST = "digest", _("a daily digest")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alarm_subscription"
    )
    severity = models.CharField(
        _("from severity"), max_length=16, choices=severity_choices(), default="critical",
        help_text=_("Alarms of this severity and worse."),
    )  # fmt: skip
    subjects = models.ManyToManyField(Subject, verbose_name=_("subjects"), blank=True, related_name="+")
    regions = models.JSONField(_("regions"), default=list, blank=True)
    delivery = models.CharField(
        _("delivery"), max_length=10, choices=Delivery.choices, default=Delivery.IMMEDIATE
    )
    active = models.BooleanField(_("active"), default=True)
    digest_sent_for = models.DateField(_("last digest for"), null=True, blank=True)

    class Meta:
        verbose_name = _("alarm subscription")
        verbose_name_plural = _("alarm subscriptions")

    def __str__(self) -> str:
        return f"{self.user} ≥ {self.severity} ({self.delivery})"


class NoticeKind(models.TextChoices):
    OUTAGE = "outage", _("Outage")
    MAINTENANCE = "maintenance", _("Maintenance window")
    DEVICE_FAILURE = "device_failure", _("Device failure")


class Notice(models.Model):
    """A subject says in advance (or at once) that it will not send (INT-09..12, INT-43..45).

    Inside the announced period no missing-data alarm is raised for the points it covers (all the
    subject's points when none are named); the data stays owed, and the alarm comes if it is still
    missing once the period is over and the grace time has passed.
    """

    subject = models.ForeignKey(
        Subject, verbose_name=_("subject"), on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    points = models.ManyToManyField(
        MeteringPoint, verbose_name=_("metering points"), blank=True, related_name="notices",
        help_text=_("Leave empty when the notice covers all the subject's metering points."),
    )  # fmt: skip
    text = models.TextField(_("text"), blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("filed by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    via = models.CharField(_("filed through"), max_length=40, blank=True)  # "cabinet", "api:<system>"
    created_at = models.DateTimeField(_("filed"))
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["subject", "ends_at"], name="alarms_notice_subject_end")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="alarms_notice_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.kind} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"


class SystemWindow(models.Model):
    """The System's own maintenance window (INT-43..45): announced by e-mail to every connected
    subject and shown on the overview page until it is over."""

    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    text = models.TextField(_("text"), blank=True)
    created_at = models.DateTimeField(_("created"))
    announced_at = models.DateTimeField(_("announced"), null=True, blank=True)

    class Meta:
        verbose_name = _("System maintenance window")
        verbose_name_plural = _("System maintenance windows")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"
