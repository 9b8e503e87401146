"""The arrivals ledger (one row per reporting slot that anything arrived for) and its daily rollups.

National scale is 20,000 devices × 13 slots a day and millions of meters × 96: nobody scans readings
or the ledger to draw the arrivals page. Both intakes write the ledger and, in the same transaction,
add to two rollups by Astana day: per metering point and per subject and energy. Pages read the
rollups and compute what was *expected* from the metering points (egsu.monitoring.expectations), so
a device or meter registered or removed later changes the expectation at once, without a rebuild.
A third, small table counts per subject and period what arrived while its slot was still within its
grace (not yet expected), so that the summaries do not let it hide a missing slot.
See egsu.monitoring.summaries for the definitions of on time, late, rejected and missing.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from egsu.choices import energy_choices, interval_choices
from egsu.monitoring.slots import SLOT_INTERVALS
from egsu.points.models import MeteringPoint
from egsu.registry.models import Subject
from egsu_core.vocabulary import Energy

INTERVAL_CHOICES = interval_choices(SLOT_INTERVALS)


ENERGY_CHOICES = (
    energy_choices()
)  # what a rollup row counts: ISUN oil and gas devices, or one energy's meters


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
    # No index of its own: the (subject, day) index below begins with it and serves every lookup by it.
    subject = models.ForeignKey(
        Subject, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    # No index and no database constraint: a batch's slots belong to as many points, so an index that
    # leads with the point takes one leaf page per slot, and as the ledger grows every batch rewrote a
    # thousand pages (benchmarks/README.md, "what bounds a sustained run"). The ledger is read by
    # period, subject and day; the point's rows are found through them. Deleting a point still clears
    # its slots' point (Django's SET_NULL), by one scan of the ledger per deletion.
    point = models.ForeignKey(
        MeteringPoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("metering point"), db_index=False, db_constraint=False,
    )  # an AMI slot is one per meter, whichever channels arrived  # fmt: skip
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
            # The period first: a batch's new slots (one period of many meters) lie together in the
            # index instead of one page per device all over it (issue 13); lookups name every column.
            models.UniqueConstraint(
                fields=["period_start", "object_id", "device_id", "interval"],
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


class PointDay(DayCounts):
    """The per-point rollup: an oil and gas device's or a meter's slots of one Astana day and interval."""

    # db_index off: the unique (point, day, interval) index begins with it (one B-tree less to write)
    point = models.ForeignKey(
        MeteringPoint, on_delete=models.CASCADE, related_name="arrival_days", db_index=False
    )

    class Meta:
        verbose_name = _("point day")
        verbose_name_plural = _("point days")
        constraints = [
            models.UniqueConstraint(fields=["point", "day", "interval"], name="monitoring_point_day_once")
        ]

    def __str__(self) -> str:
        return f"point {self.point_id} {self.day} {self.interval}"


class SubjectDay(DayCounts):
    # db_index off: the unique (subject, day, interval, energy) index begins with it
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="+", db_index=False)
    energy = models.CharField(_("energy"), max_length=16, choices=ENERGY_CHOICES, default=Energy.OIL_GAS)

    class Meta:
        verbose_name = _("subject day")
        verbose_name_plural = _("subject days")
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "day", "interval", "energy"], name="monitoring_subject_day_energy_once"
            )
        ]
        indexes = [
            models.Index(fields=["day", "subject"], name="monitoring_subject_day_day"),
            # Covering: the arrivals pages sum a period's counts per subject from this index alone. Read
            # through the unique index, each row's counts were fetched from the table, whose rows lie
            # day by day (as intake adds them): a jump per row, 1.1 µs of a year page's 219,000 rows
            # on SQLite against 0.24 µs here (benchmarks/README.md, arrivals).
            models.Index(
                fields=["subject", "day", "energy", "interval", "on_time", "late", "rejected"],
                name="monitoring_subject_day_sums",
            ),
        ]

    def __str__(self) -> str:
        return f"subject {self.subject_id} {self.day} {self.interval}"


class SubjectPeriod(DayCounts):
    """A subject's slots of one period that arrived (or were rejected) while still within their grace.

    A slot is owed, and so counted in "expected", only once it is overdue (``due_at + grace <= now``),
    but the day rollups count an arrival at once. The summaries subtract what this table holds for
    the periods still within their grace, so that an early arrival does not hide a missing slot
    (egsu.monitoring.summaries). Written only while a slot is within its grace; rows whose grace has
    passed are never read and are pruned (egsu.ops.retention). A batch of one head-end adds a row
    per period, not per meter.
    """

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="+", db_index=False)
    energy = models.CharField(_("energy"), max_length=16, choices=ENERGY_CHOICES, default=Energy.OIL_GAS)
    period_start = models.DateTimeField(_("period start"))
    due_at = models.DateTimeField(_("due"))

    class Meta:
        verbose_name = _("subject period")
        verbose_name_plural = _("subject periods")
        constraints = [
            # The period first: the summaries read the few periods still within their grace.
            models.UniqueConstraint(
                fields=["period_start", "interval", "subject", "energy"],
                name="monitoring_subject_period_once",
            )
        ]

    def __str__(self) -> str:
        return f"subject {self.subject_id} {self.interval} {self.period_start.isoformat()}"
