"""Metering points: one concept for "where a quantity is measured", whichever feed reports it.

An oil and gas device of a facility (ISUN, App.2) and an AMI meter with its channels are both
metering points once past their intakes (docs/decisions/0007-metering-points.md). Scope, search,
filters, status, arrivals rollups, list and detail pages, exports and the read API talk about
points only. A point is a registry projection: `egsu.points.services.refresh_points` derives it
from its device or meter (and their facility, metering object and subjects), so the registry
stays the one place people edit.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from egsu.ami.models import Meter
from egsu.choices import energy_choices
from egsu.registry.models import Device, Subject
from egsu_core.vocabulary import Energy, Feed

FEED_CHOICES = [(feed.value, feed.label) for feed in Feed]


class MeteringPoint(models.Model):
    """A device or a meter, with the facets every list, total and page filters by."""

    energy = models.CharField(_("energy"), max_length=16, choices=energy_choices(), db_index=True)
    device = models.OneToOneField(
        Device, verbose_name=_("device"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="metering_point",
    )  # fmt: skip
    meter = models.OneToOneField(
        Meter, verbose_name=_("meter"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="metering_point",
    )  # fmt: skip
    # The readings store's key of every value measured here (object_id, device_id).
    object_code = models.CharField(_("object code"), max_length=64)
    store_device_id = models.CharField(_("device id in the store"), max_length=64)
    subject = models.ForeignKey(
        Subject, verbose_name=_("subject"), on_delete=models.CASCADE, related_name="+",
        help_text=_("Whose data it is: the facility's or metering object's subject."),
    )  # fmt: skip
    supplier = models.ForeignKey(
        Subject, verbose_name=_("reported by"), on_delete=models.CASCADE, related_name="+",
        help_text=_("The subject whose system sends its values (a meter's utility)."),
    )  # fmt: skip
    region = models.CharField(_("region"), max_length=100, blank=True, db_index=True)
    object_kind = models.CharField(_("object kind"), max_length=32, blank=True)
    object_name = models.CharField(_("object"), max_length=300, blank=True)
    name = models.CharField(_("name"), max_length=300)
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    model_name = models.CharField(_("model"), max_length=200, blank=True)
    account = models.CharField(_("personal account"), max_length=64, blank=True)
    address = models.CharField(_("address"), max_length=500, blank=True)
    counterparty = models.CharField(_("counterparty"), max_length=300, blank=True)
    product = models.CharField(_("product"), max_length=210, blank=True)
    device_type = models.CharField(_("device type"), max_length=210, blank=True)
    commercial = models.BooleanField(_("commercial metering"), default=False)  # ACC-06
    active = models.BooleanField(_("active"), default=True)
    owes = models.BooleanField(
        _("owes data"), default=True, help_text=_("Whether arrivals expect values from it (active, on an active object).")
    )  # fmt: skip
    owed_intervals = models.CharField(
        _("owed intervals"), max_length=32, blank=True, help_text=_("Comma-separated interval codes it reports.")
    )  # fmt: skip
    owes_from = models.DateField(_("owes from"))
    owes_until = models.DateField(_("owes until"), null=True, blank=True)
    verification_due = models.DateField(_("next verification due"), null=True, blank=True)

    class Meta:
        verbose_name = _("metering point")
        verbose_name_plural = _("metering points")
        ordering = ["object_code", "store_device_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["object_code", "store_device_id"], name="points_store_key_unique"
            ),
            models.CheckConstraint(
                condition=(Q(device__isnull=False) & Q(meter__isnull=True))
                | (Q(device__isnull=True) & Q(meter__isnull=False)),
                name="points_device_xor_meter",
            ),
            models.CheckConstraint(
                condition=Q(energy__in=[e.value for e in Energy]), name="points_energy_known"
            ),
        ]
        indexes = [
            models.Index(fields=["subject", "energy"], name="points_subject_energy"),
            models.Index(fields=["supplier", "account"], name="points_supplier_account"),
        ]

    def __str__(self) -> str:
        return f"{self.object_code}/{self.name}"

    @property
    def feed(self) -> Feed:
        return Energy(self.energy).feed

    @property
    def store_key(self) -> tuple[str, str]:
        return self.object_code, self.store_device_id

    @property
    def intervals(self) -> list[str]:
        return [code for code in self.owed_intervals.split(",") if code]
