"""What was published as open data: one publication per data set and run, and its vetted cells.

The public pages and the API read these rows only, never the readings store: nothing reaches a
stranger that the publishing job did not vet (egsu.opendata.disclosure).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Publication(models.Model):
    dataset = models.CharField(_("data set"), max_length=64, db_index=True)
    published_at = models.DateTimeField(_("published"))
    period_from = models.DateField(_("from"), null=True, blank=True)
    period_to = models.DateField(_("to"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    withheld = models.PositiveIntegerField(_("withheld cells"), default=0)
    json_file = models.CharField(_("JSON file"), max_length=200, blank=True)
    csv_file = models.CharField(_("CSV file"), max_length=200, blank=True)
    current = models.BooleanField(_("current"), default=False)

    class Meta:
        verbose_name = _("open data publication")
        verbose_name_plural = _("open data publications")
        ordering = ["-published_at"]
        constraints = [
            models.UniqueConstraint(fields=["dataset"], condition=models.Q(current=True),
                                    name="opendata_one_current_publication"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.dataset} {self.published_at:%Y-%m-%d %H:%M}"


class PublishedCell(models.Model):
    """One public cell; `value` is empty when withheld."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="cells")
    period = models.DateField(_("month"))
    level = models.CharField(_("level"), max_length=16)  # national | regional
    region = models.CharField(_("region"), max_length=100, blank=True)
    energy = models.CharField(_("energy"), max_length=16)
    product = models.CharField(_("product"), max_length=210, blank=True)
    quantity = models.CharField(_("quantity"), max_length=32)
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    value = models.DecimalField(_("value"), max_digits=30, decimal_places=12, null=True, blank=True)
    withheld = models.BooleanField(_("withheld"), default=False)

    class Meta:
        verbose_name = _("published cell")
        verbose_name_plural = _("published cells")
        ordering = ["period", "energy", "product", "quantity", "level", "region"]
        indexes = [models.Index(fields=["publication", "period"], name="opendata_cell_period")]
        constraints = [
            models.CheckConstraint(condition=models.Q(withheld=False) | models.Q(value__isnull=True),
                                   name="opendata_withheld_has_no_value"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.region or 'national'} {self.quantity}"
