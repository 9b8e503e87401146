"""Facilities (App.2 objects of kinds 1.1–1.9) and the metering devices installed on them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from egsu.registry import rules
from egsu.registry.models.dictionaries import DeviceType, OperationType, Pipeline, ProductType
from egsu.registry.models.subjects import Subject
from egsu_core.isun.tables import FACILITY_KINDS


def validate_object_id(value: str) -> None:
    problem = rules.object_id_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_object_id")


def validate_device_id(value: str) -> None:
    problem = rules.device_id_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_device_id")


class Facility(models.Model):
    """A production object with its operator-assigned ID (the ``ID``/``id`` of every App.2 record, FMT-02)."""

    object_id = models.CharField(_("object ID"), max_length=50, unique=True, validators=[validate_object_id])
    kind = models.CharField(_("kind"), max_length=3, choices=rules.kind_choices)
    subject = models.ForeignKey(
        Subject, on_delete=models.PROTECT, related_name="facilities", verbose_name=_("subject")
    )
    name = models.CharField(_("name"), max_length=300)
    region = models.CharField(_("region"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["object_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=sorted(FACILITY_KINDS)), name="registry_facility_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.object_id} {self.name} ({self.kind})"


class Device(models.Model):
    """A metering device on a facility; its ``device_id`` (deviceNameId) is unique only within the facility.

    Real clients number devices per object (deviceNameId 1 for every flow meter, 2 for every
    tank), so the natural key is (facility, device_id).
    """

    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="devices", verbose_name=_("facility")
    )
    device_id = models.CharField(_("device ID"), max_length=50, validators=[validate_device_id])
    device_type = models.ForeignKey(DeviceType, on_delete=models.PROTECT, verbose_name=_("device type"))
    product_type = models.ForeignKey(
        ProductType, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("product type")
    )
    pipeline = models.ForeignKey(
        Pipeline,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("pipeline"),
        help_text=_("Only for facilities of kind 1.3."),
    )
    commercial = models.BooleanField(_("commercial metering"), default=False)  # ACC-06
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    model_name = models.CharField(_("model"), max_length=200, blank=True)
    allowed_operations = models.ManyToManyField(
        OperationType,
        blank=True,
        verbose_name=_("allowed operations"),
        help_text=_("Empty means every operation allowed for the facility's kind."),
    )
    installed_at = models.DateField(_("installed"), null=True, blank=True)
    removed_at = models.DateField(_("removed"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["facility__object_id", "device_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "device_id"], name="registry_device_unique_per_facility"
            ),
            models.CheckConstraint(
                condition=models.Q(removed_at__isnull=True)
                | models.Q(installed_at__isnull=True)
                | models.Q(removed_at__gte=models.F("installed_at")),
                name="registry_device_removed_after_installed",
            ),
        ]

    def __str__(self) -> str:
        object_id = self.facility.object_id if self.facility_id else "?"
        return f"{object_id}/{self.device_id}"

    def clean(self) -> None:
        super().clean()
        facility = self.facility_or_none()
        if facility is None:
            return
        kind = facility.kind
        errors: dict[str, str] = {}
        if self.device_type_id is not None and (
            problem := rules.device_type_problem(kind, self.device_type_id)
        ):
            errors["device_type"] = problem
        if problem := rules.pipeline_problem(kind, self.pipeline_id):
            errors["pipeline"] = problem
        if self.pk and (
            problem := self.operations_problem(self.allowed_operations.values_list("id", flat=True))
        ):
            errors["allowed_operations"] = problem
        if errors:
            raise ValidationError(errors)

    def facility_or_none(self) -> Facility | None:
        """The facility, also when it is an unsaved one an admin inline has attached."""
        try:
            return self.facility
        except Facility.DoesNotExist:
            return None

    def operations_problem(self, operation_ids) -> str | None:
        """FMT-07 for a proposed set of allowed operations (the admin form checks it before saving the M2M)."""
        facility = self.facility_or_none()
        return None if facility is None else rules.operations_problem(facility.kind, operation_ids)
