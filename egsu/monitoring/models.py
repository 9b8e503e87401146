"""The arrivals ledger (one row per reporting slot that anything arrived for) and its daily rollups.

National scale is 20,000 devices × 13 slots a day: nobody scans readings or the ledger to draw the
arrivals page. Intake writes the ledger and, in the same transaction, adds to two rollups by Astana
day: per device and per subject. Pages read the rollups and compute what was *expected* from the
registry (egsu.monitoring.slots), so a device registered or removed later changes the expectation
at once, without a rebuild. See egsu.monitoring.services for the definitions of on time, late,
rejected and missing.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from egsu.ami.models import Meter
from egsu.monitoring.slots import SlotInterval
from egsu.registry.models import Device, Subject

INTERVAL_CHOICES = [(i.value, i.value) for i in SlotInterval]


class Energy(models.TextChoices):
    """What a rollup row counts: ISUN oil and gas devices, or AMI meters of one energy."""

    OIL_GAS = "oil_gas", _("Oil and gas")
    ELECTRICITY = "electricity", _("Electricity")
    HEAT = "heat", _("Heat")
    GAS = "gas", _("Gas")


class ArrivalStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    REVISED = "revised", _("Revised")  # accepted, then sent again with other values
    REJECTED = "rejected", _("Rejected")  # only rejected records so far: nothing usable arrived


class Arrival(models.Model):
    """What arrived for one slot: idempotent, a re-sent record only moves last_received_at."""

    object_id = models.CharField(_("object ID"), max_length=64, blank=True)
    device_id = models.CharField(_("device ID"), max_length=64, blank=True)
    interval = models.CharField(_("interval"), max_length=8, choices=INTERVAL_CHOICES, blank=True)
    period_start = models.DateTimeField(
        _("period start"), null=True, blank=True, help_text=_("Empty when a rejected record had no readable period.")
    )  # fmt: skip
    day = models.DateField(
        _("Astana day"), help_text=_("Of the period; of the receipt when the period is unknown.")
    )
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    registered_device = models.ForeignKey(
        Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("device")
    )
    meter = models.ForeignKey(
        Meter, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("meter")
    )  # AMI slots: one per meter, whichever channels arrived (device_id is the meter's id)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    first_received_at = models.DateTimeField(_("first received"))
    last_received_at = models.DateTimeField(_("last received"))
    accepted_at = models.DateTimeField(_("first accepted"), null=True, blank=True)
    on_time = models.BooleanField(_("on time"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ArrivalStatus.choices)
    record_count = models.PositiveIntegerField(_("records received"), default=1)
    journal_entry_id = models.BigIntegerField(_("last journal entry"), null=True, blank=True)
    position = models.PositiveIntegerField(_("record position"), default=0)
    reason_code = models.CharField(_("rejection code"), max_length=40, blank=True)
    reason = models.CharField(_("rejection reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("arrival")
        verbose_name_plural = _("arrivals")
        constraints = [
            models.UniqueConstraint(
                fields=["object_id", "device_id", "interval", "period_start"],
                condition=Q(period_start__isnull=False),
                name="monitoring_arrival_one_per_slot",
            ),
            # A rejected record without a period is keyed by where it came from, so a retried
            # message never adds it twice.
            models.UniqueConstraint(
                fields=["journal_entry_id", "position"],
                condition=Q(period_start__isnull=True),
                name="monitoring_arrival_slotless_once",
            ),
        ]
        indexes = [
            models.Index(fields=["subject", "day"], name="monitoring_arrival_subj_day"),
            models.Index(fields=["registered_device", "day"], name="monitoring_arrival_dev_day"),
        ]

    def __str__(self) -> str:
        when = self.period_start.isoformat() if self.period_start else "?"
        return f"{self.object_id}/{self.device_id} {self.interval} {when} {self.status}"


class DayCounts(models.Model):
    """Slots counted by their Astana day: arrived = on_time + late; rejected = only rejected so far."""

    day = models.DateField(_("Astana day"))
    interval = models.CharField(_("interval"), max_length=8, choices=INTERVAL_CHOICES)
    on_time = models.PositiveIntegerField(_("on time"), default=0)
    late = models.PositiveIntegerField(_("late"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)

    class Meta:
        abstract = True


class DeviceDay(DayCounts):
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("device day")
        verbose_name_plural = _("device days")
        constraints = [
            models.UniqueConstraint(fields=["device", "day", "interval"], name="monitoring_device_day_once")
        ]

    def __str__(self) -> str:
        return f"device {self.device_id} {self.day} {self.interval}"


class MeterDay(DayCounts):
    """The per-device rollup of AMI meters (their own table: meters are not registry devices)."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("meter day")
        verbose_name_plural = _("meter days")
        constraints = [
            models.UniqueConstraint(fields=["meter", "day", "interval"], name="monitoring_meter_day_once")
        ]

    def __str__(self) -> str:
        return f"meter {self.meter_id} {self.day} {self.interval}"


class SubjectDay(DayCounts):
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="+")
    energy = models.CharField(_("energy"), max_length=16, choices=Energy.choices, default=Energy.OIL_GAS)

    class Meta:
        verbose_name = _("subject day")
        verbose_name_plural = _("subject days")
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "day", "interval", "energy"], name="monitoring_subject_day_energy_once"
            )
        ]
        indexes = [models.Index(fields=["day", "subject"], name="monitoring_subject_day_day")]

    def __str__(self) -> str:
        return f"subject {self.subject_id} {self.day} {self.interval}"
