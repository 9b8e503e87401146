"""Schemes and their versions with signed steps (OGM-01..06); metrology, documents, failures and
obligated objects keyed by metering point or subject (OGM-07..09, DIG-45, DIG-46)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    SUPERSEDED = "superseded", _("Superseded")


OPEN_FOR_REVIEW = (VersionStatus.SUBMITTED, VersionStatus.UNDER_REVIEW)
DECIDED = (VersionStatus.APPROVED, VersionStatus.REFUSED, VersionStatus.SUPERSEDED)


class Scheme(models.Model):
    """A production object's technological scheme (one per facility), kept as numbered versions."""

    facility = models.OneToOneField(
        "registry.Facility", on_delete=models.PROTECT, related_name="scheme", verbose_name=_("facility")
    )
    subject = models.ForeignKey(
        "registry.Subject", on_delete=models.PROTECT, related_name="schemes", verbose_name=_("subject")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("technological scheme")
        verbose_name_plural = _("technological schemes")
        ordering = ["facility__object_id"]

    def __str__(self) -> str:
        return f"{self.facility_id}"


class SchemeVersion(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=16, choices=VersionStatus.choices, default="draft")
    content = models.JSONField(_("nodes and flows"), default=dict)
    points = models.ManyToManyField(
        "points.MeteringPoint", blank=True, related_name="scheme_versions", verbose_name=_("metering points")
    )  # derived from content on every save of it (the gate reads it: OGM-02)
    drawing = models.BinaryField(_("drawing (PDF)"), null=True, blank=True, editable=False)
    drawing_name = models.CharField(_("drawing file"), max_length=200, blank=True)
    drawing_sha256 = models.CharField(_("drawing SHA-256"), max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"))
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    received_on = models.DateField(_("received"), null=True, blank=True)
    deadline = models.DateField(_("review deadline"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reasons = models.TextField(_("reasons for refusal"), blank=True)
    decision_pdf = models.BinaryField(_("decision PDF"), null=True, blank=True, editable=False)
    decision_sha256 = models.CharField(_("decision SHA-256"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("scheme version")
        verbose_name_plural = _("scheme versions")
        ordering = ["scheme", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "number"], name="schemes_version_number_once"),
            models.UniqueConstraint(
                fields=["scheme"], condition=Q(status="approved"), name="schemes_one_approved_version"
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(reasons=""), name="schemes_refusal_has_reasons"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(received_on__isnull=False, deadline__isnull=False),
                name="schemes_submitted_has_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme} v{self.number} {self.status}"


class StepAction(models.TextChoices):
    SUBMIT = "submit", _("Submitted")
    TAKE = "take", _("Taken into review")
    APPROVE = "approve", _("Approved")
    REFUSE = "refuse", _("Refused")


class SchemeStep(models.Model):
    """One signed step of the agreement: the signed statement itself and the verdict on it, kept."""

    version = models.ForeignKey(SchemeVersion, on_delete=models.PROTECT, related_name="steps")
    action = models.CharField(_("action"), max_length=10, choices=StepAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))
    signed_xml = models.BinaryField(_("signed statement"), editable=False)
    signer = models.CharField(_("signer"), max_length=300)
    signer_bin = models.CharField(_("signer BIN"), max_length=12, blank=True)
    certificate_serial = models.CharField(_("certificate serial"), max_length=80)
    algorithm = models.CharField(_("algorithm"), max_length=60)
    verdict = models.CharField(_("verdict"), max_length=20)
    verdict_detail = models.TextField(_("verdict detail"), blank=True)

    class Meta:
        verbose_name = _("signed step")
        verbose_name_plural = _("signed steps")
        ordering = ["version", "at", "pk"]


# ---------------------------------------------------------------- metrology and documents (OGM-08/09, DIG-46)


class Metrology(models.Model):
    """A metering point's device type approval, measurement method and stated error."""

    point = models.OneToOneField("points.MeteringPoint", on_delete=models.CASCADE, related_name="metrology")
    type_register_no = models.CharField(_("type approval (state register entry)"), max_length=100, blank=True)
    type_approved_until = models.DateField(_("type approval valid until"), null=True, blank=True)
    method_ref = models.CharField(_("measurement method (MVI) reference"), max_length=300, blank=True)
    stated_error = models.CharField(_("stated error"), max_length=100, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("device metrology")
        verbose_name_plural = _("device metrology")

    def type_approved_on(self, day) -> bool:
        return bool(self.type_register_no) and (
            self.type_approved_until is None or self.type_approved_until >= day
        )


class DocumentKind(models.TextChoices):
    PASSPORT = "passport", _("Technical passport")
    VERIFICATION = "verification", _("Verification certificate")
    METHOD = "method", _("Measurement method certificate")
    TYPE_APPROVAL = "type_approval", _("Type approval certificate")
    SOFTWARE = "software", _("Software documentation")
    OTHER = "other", _("Other")


class Document(models.Model):
    """One version of a document in the store: the file under var/documents by its SHA-256."""

    point = models.ForeignKey("points.MeteringPoint", on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    name = models.CharField(_("file name"), max_length=200)
    version = models.PositiveIntegerField(_("version"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"))

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["point", "kind", "name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["point", "kind", "name", "version"], name="schemes_document_version"
            )
        ]


class Verification(models.Model):
    """One verification (поверка) of a point's device: when, until when, the certificate."""

    point = models.ForeignKey("points.MeteringPoint", on_delete=models.CASCADE, related_name="verifications")
    verified_on = models.DateField(_("verified"))
    valid_until = models.DateField(_("valid until"))
    certificate_no = models.CharField(_("certificate number"), max_length=100)
    document = models.ForeignKey(Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")
        ordering = ["point", "-verified_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("verified_on")), name="schemes_verification_period"
            )
        ]


# ---------------------------------------------------------------- failures and replacement (DIG-45, OGM-12)


class ReplacementPeriod(models.Model):
    """Days allowed to replace a failed device, per energy (Rules §101 names heat supply: 30 calendar days)."""

    energy = models.CharField(_("energy"), max_length=16, unique=True)
    days = models.PositiveSmallIntegerField(_("calendar days"), default=30)

    class Meta:
        verbose_name = _("replacement period")
        verbose_name_plural = _("replacement periods")


class FailureSource(models.TextChoices):
    NOTICE = "notice", _("Subject's notice")
    DEVICE_STATUS = "device_status", _("Device status")
    ALARM = "alarm", _("Alarm")


class Failure(models.Model):
    point = models.ForeignKey("points.MeteringPoint", on_delete=models.PROTECT, related_name="failures")
    failed_on = models.DateField(_("failed"))
    source = models.CharField(_("source"), max_length=16, choices=FailureSource.choices)
    note = models.TextField(_("note"), blank=True)
    due_on = models.DateField(_("replace by"))
    replacement = models.ForeignKey(
        "points.MeteringPoint", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_failures",
        verbose_name=_("replacement"),
    )  # fmt: skip
    replaced_on = models.DateField(_("replaced"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("device failure")
        verbose_name_plural = _("device failures")
        ordering = ["-failed_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(replacement__isnull=True, replaced_on__isnull=True)
                | Q(replacement__isnull=False, replaced_on__isnull=False),
                name="schemes_replacement_complete",
            ),
            models.UniqueConstraint(
                fields=["point"], condition=Q(replaced_on__isnull=True), name="schemes_one_open_failure"
            ),
        ]


# ---------------------------------------------------------------- obligated objects (OGM-07, Order No. 357)


class ObligatedObject(models.Model):
    subject = models.ForeignKey(
        "registry.Subject", on_delete=models.PROTECT, related_name="obligated_objects"
    )
    object_code = models.CharField(_("object code"), max_length=64)
    name = models.CharField(_("name"), max_length=300)
    deadline = models.DateField(_("equip by"))
    equipped_on = models.DateField(_("equipped"), null=True, blank=True)
    basis = models.CharField(
        _("basis"), max_length=200, blank=True, default="Order No. 357 of 4 November 2019"
    )
    imported_at = models.DateTimeField(_("imported"))

    class Meta:
        verbose_name = _("obligated object")
        verbose_name_plural = _("obligated objects")
        ordering = ["subject", "deadline", "object_code"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "object_code"], name="schemes_obligated_once")
        ]
