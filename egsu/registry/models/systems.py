"""Gateway services and the subjects' systems connected to them (INT, ENV-04/05)."""

from __future__ import annotations

import re

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from egsu.registry import rules
from egsu.registry.models.subjects import Subject


def validate_sender_id(value: str) -> None:
    problem = rules.sender_id_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_sender_id")


_OID = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")


def oid_list(text: str) -> list[str]:
    """OIDs from a comma-separated cell or field, blanks dropped."""
    return [item.strip() for item in re.split(r"[,;\s]+", text or "") if item.strip()]


def oid_list_problem(text: str) -> str | None:
    bad = [item for item in oid_list(text) if not _OID.fullmatch(item)]
    return f"not an OID: {', '.join(bad)}" if bad else None


def validate_oid_list(value: str) -> None:
    problem = oid_list_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_oid")


class Service(models.Model):
    """A gateway service key (serviceId) the System answers; unknown keys get SCE004."""

    service_id = models.CharField(_("service ID"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["service_id"]

    def __str__(self) -> str:
        return self.service_id


class Contour(models.TextChoices):
    TEST = "test", _("test")
    PRODUCTION = "production", _("production")


# shep-notes §3: NCA policies for legal entities, signing (.2.1) and authentication (.2.2).
LEGAL_ENTITY_POLICIES = frozenset({"1.2.398.3.3.2.1", "1.2.398.3.3.2.2"})


class ConnectedSystem(models.Model):
    """A subject's system that logs in to the gateway channel with senderId and password.

    Only a salted slow hash is kept (Django's hasher); the clear password is never stored.
    """

    sender_id = models.CharField(
        _("sender ID (login)"), max_length=50, unique=True, validators=[validate_sender_id]
    )
    password_hash = models.CharField(_("password hash"), max_length=128, editable=False)
    subject = models.ForeignKey(
        Subject, on_delete=models.PROTECT, related_name="connected_systems", verbose_name=_("subject")
    )
    services = models.ManyToManyField(Service, blank=True, related_name="systems", verbose_name=_("services"))
    contour = models.CharField(_("contour"), max_length=10, choices=Contour.choices, default=Contour.TEST)
    active = models.BooleanField(_("active"), default=True)
    require_transport_signature = models.BooleanField(
        _("require transport signature"),
        default=True,
        help_text=_(
            "WS-Security signature of the system's NCA certificate (App.1 §37, SCE007 when missing)."
        ),
    )
    require_business_signature = models.BooleanField(_("require business signature"), default=True)
    allowed_policy_oids = models.CharField(
        _("allowed certificate policies"),
        max_length=500,
        blank=True,
        help_text=_(
            "Comma-separated policy OIDs the signing certificates may carry (SIG-12); "
            "blank: the NCA legal-entity policies 1.2.398.3.3.2.1 and 1.2.398.3.3.2.2."
        ),
        validators=[validate_oid_list],
    )
    allowed_eku_oids = models.CharField(
        _("allowed extended key usages"),
        max_length=500,
        blank=True,
        validators=[validate_oid_list],
        help_text=_(
            "Comma-separated extended key usage OIDs, at least one of which the signing certificate must "
            "carry (SIG-12 permitted uses), e.g. 1.2.398.3.3.4.1.2.1 for the first head; blank: any."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    @property
    def allowed_ekus(self) -> frozenset[str] | None:
        """SIG-12: extended key usages of which the signing certificate needs one; None: any."""
        given = frozenset(oid_list(self.allowed_eku_oids))
        return given or None

    @property
    def allowed_policies(self) -> frozenset[str]:
        """SIG-12: what the signing certificate's policy may be; legal-entity signing by default."""
        given = set(oid_list(self.allowed_policy_oids))
        return frozenset(given) if given else LEGAL_ENTITY_POLICIES

    class Meta:
        verbose_name = _("connected system")
        verbose_name_plural = _("connected systems")
        ordering = ["sender_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contour__in=[c.value for c in Contour]),
                name="registry_system_contour_known",
            ),
        ]

    def __str__(self) -> str:
        return self.sender_id

    def set_password(self, raw: str | None) -> None:
        """Hash and keep ``raw``; None leaves the system unable to log in until a password is set."""
        self.password_hash = make_password(raw)

    def check_password(self, raw: str | None) -> bool:
        if raw is None or not self.password_hash:
            return False
        return check_password(raw, self.password_hash)

    @property
    def has_usable_password(self) -> bool:
        return bool(self.password_hash) and not self.password_hash.startswith("!")
