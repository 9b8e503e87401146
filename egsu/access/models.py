"""Profiles (role and scope as data), the audit trail, and sign-in throttling."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from egsu.access.roles import Module, Role


class Profile(models.Model):
    """What a user is and which data it reaches; enforced only through egsu.access.scope."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    subjects = models.ManyToManyField(
        "registry.Subject", blank=True, related_name="users", verbose_name=_("subjects"),
        help_text=_("Subject users: their organisation. State bodies: the subjects they were granted (ACC-16)."),
    )  # fmt: skip
    modules = models.JSONField(
        _("modules"), default=list, blank=True,
        help_text=_("Granted modules; empty means the role's default set."),
    )  # fmt: skip
    meter_accounts = models.JSONField(
        _("meter accounts"),
        default=list,
        blank=True,
        help_text=_("Subscribers: their own meters as [supplier BIN, personal account] pairs."),
    )
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=5, default="kk", choices=settings.LANGUAGES)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="access_profile_role_known"),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.get_role_display()})"

    @property
    def granted_modules(self) -> frozenset[str]:
        from egsu.access.roles import DEFAULT_MODULES

        known = set(Module.values)
        given = {m for m in self.modules if m in known}
        return frozenset(given) if given else DEFAULT_MODULES[self.role]


class AuditEvent(models.Model):
    """One audited action: who, what, on which object, before and after (style.md: audit is data)."""

    occurred_at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)  # kept after the user is gone
    event = models.CharField(_("event"), max_length=60, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=120, blank=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    remote_addr = models.CharField(_("address"), max_length=64, blank=True)
    source = models.CharField(_("source"), max_length=120, blank=True, help_text=_("message id, task id…"))

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.event} {self.actor_name}"


class LoginThrottle(models.Model):
    """Failed sign-ins per user name; past the limit the name is locked for a while."""

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in throttle")
        verbose_name_plural = _("sign-in throttles")

    def __str__(self) -> str:
        return f"{self.username}: {self.failures}"
