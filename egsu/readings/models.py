"""The readings table: one row per measured value and revision (long format, design.md).

Object and device ids are plain strings, not foreign keys to the registry: a stored
value is evidence of what a subject sent for an id at a time, and it must survive the
registry being edited, renamed or pruned later (ACC-08). The registry is consulted when
a record is checked at intake, never to interpret stored rows.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from egsu.choices import interval_choices
from egsu.readings.store import KNOWN_INTERVALS, VALUE_DECIMAL_PLACES, VALUE_INTEGER_DIGITS, Quality
from egsu_core.clock import utcnow

INTERVAL_CHOICES = interval_choices()
QUALITY_CHOICES = [(flag.value, flag.value) for flag in Quality]


class Reading(models.Model):
    """A value never changes once written: a correction adds the next revision."""

    object_id = models.CharField(max_length=64, help_text=_("Operator-assigned facility id, as received."))
    device_id = models.CharField(max_length=64, help_text=_("Operator-assigned device id, as received."))
    quantity = models.CharField(max_length=32, help_text=_("App.3 field name: tankLevel, volume, mass, …"))
    interval = models.CharField(max_length=8, choices=INTERVAL_CHOICES, help_text=_("ISO 8601 duration."))
    period_start = models.DateTimeField(help_text=_("Start of the period the value covers (UTC)."))
    value = models.DecimalField(
        max_digits=VALUE_INTEGER_DIGITS + VALUE_DECIMAL_PLACES, decimal_places=VALUE_DECIMAL_PLACES
    )
    unit = models.CharField(max_length=16, help_text=_("App.3 unit symbol."))
    quality = models.CharField(max_length=32, choices=QUALITY_CHOICES)
    commercial = models.BooleanField(
        default=False, help_text=_("From a commercial metering device (ACC-06).")
    )
    source = models.CharField(max_length=100, help_text=_("Message id or correction act id."))
    revision = models.PositiveIntegerField(default=1)
    recorded_at = models.DateTimeField(default=utcnow)

    class Meta:
        constraints = [
            # A re-sent record can never be stored twice under one revision number; the SQL
            # backend relies on this to settle races between concurrent writers.
            models.UniqueConstraint(
                fields=["object_id", "device_id", "quantity", "interval", "period_start", "revision"],
                name="reading_key_revision_unique",
            ),
            models.CheckConstraint(condition=Q(revision__gte=1), name="reading_revision_positive"),
            models.CheckConstraint(
                condition=Q(interval__in=sorted(KNOWN_INTERVALS)), name="reading_interval_known"
            ),
        ]
        indexes = [
            # "Latest" lookups (newest revision of a key) walk the unique index above; this one
            # serves the other direction: every value of one slot, across objects (monitoring).
            models.Index(fields=["interval", "period_start"], name="reading_slot_idx"),
            models.Index(fields=["source"], name="reading_source_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.object_id}/{self.device_id} {self.quantity} {self.interval} "
            f"{self.period_start.isoformat()} r{self.revision}"
        )
