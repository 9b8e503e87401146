"""A year of the Government's transfers of days off (Labour Code art. 85.3), kept by the operator.

A year entered here replaces the built-in table of egsu.calendar_kz for that year; a year
with no transfer rows says "the decree moved no day". `confirmed` tells whether the decree
was checked: an unconfirmed year is counted with the law's holidays alone, and pages that
show deadlines say so.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class TransferYear(models.Model):
    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    confirmed = models.BooleanField(
        _("decree checked"),
        default=False,
        help_text=_("The Government's decree for this year was read and its transfers entered."),
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("year of transfers")
        verbose_name_plural = _("years of transfers")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class DayTransfer(models.Model):
    year = models.ForeignKey(TransferYear, on_delete=models.CASCADE, related_name="transfers")
    day_off = models.DateField(_("working day made a day off"))
    working_day = models.DateField(_("day off made a working day"))
    source = models.CharField(_("decree"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("transfer of a day off")
        verbose_name_plural = _("transfers of days off")
        ordering = ["day_off"]
        constraints = [
            models.UniqueConstraint(fields=["day_off"], name="workdays_day_off_once"),
            models.UniqueConstraint(fields=["working_day"], name="workdays_working_day_once"),
            models.CheckConstraint(condition=~Q(day_off=F("working_day")), name="workdays_two_days"),
        ]

    def __str__(self) -> str:
        return f"{self.day_off} ↔ {self.working_day}"
