"""Subjects: the fuel and energy companies that must report, keyed by BIN."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from egsu.registry.bin import bin_problem


def validate_bin(value: str) -> None:
    problem = bin_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_bin")


class Subject(models.Model):
    """A fuel and energy complex subject (GEN §2.1), the owner of facilities and connected systems."""

    bin = models.CharField(_("BIN"), max_length=12, unique=True, validators=[validate_bin])
    name = models.CharField(_("name"), max_length=300)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=500, blank=True)
    email = models.EmailField(_("contact e-mail"), blank=True)
    phone = models.CharField(_("contact phone"), max_length=50, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("subject")
        verbose_name_plural = _("subjects")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Exact(Length("bin"), 12), name="registry_subject_bin_12_chars"),
        ]

    def __str__(self) -> str:
        return f"{self.short_name or self.name} ({self.bin})"
