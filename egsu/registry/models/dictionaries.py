"""Reference dictionaries: fixed App.2 codes (device and operation types) and operator-kept ones."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceType(models.Model):
    """deviceTypeId exactly as App.2 defines it (FMT-06); loaded from egsu_core.isun.tables, never edited."""

    id = models.PositiveSmallIntegerField(_("code"), primary_key=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_kk = models.CharField(_("name (Kazakh)"), max_length=200)

    class Meta:
        verbose_name = _("device type")
        verbose_name_plural = _("device types")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id} {self.name_en}"


class OperationType(models.Model):
    """operationTypeId exactly as App.2 defines it (FMT-07), with the facility kinds it is allowed for."""

    id = models.PositiveSmallIntegerField(_("code"), primary_key=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_kk = models.CharField(_("name (Kazakh)"), max_length=200)
    kinds = models.CharField(
        _("facility kinds"), max_length=100, help_text=_("comma-separated, e.g. 1.4,1.5")
    )

    class Meta:
        verbose_name = _("operation type")
        verbose_name_plural = _("operation types")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id} {self.name_en}"

    @property
    def kind_set(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.kinds.split(",") if k.strip())


class ProductType(models.Model):
    """productTypeId (productId in Table 1.9): assigned by the data operator (FMT-02)."""

    id = models.PositiveIntegerField(_("code"), primary_key=True)
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product type")
        verbose_name_plural = _("product types")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(id__gt=0), name="registry_producttype_id_positive")
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"


class Pipeline(models.Model):
    """Trunk oil pipeline (pipelineId, Table 1.3): assigned by the data operator (FMT-02)."""

    id = models.PositiveIntegerField(_("code"), primary_key=True)
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(id__gt=0), name="registry_pipeline_id_positive")
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"
