"""The one filter of data-quality findings: the findings page (and any export of it) uses it."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from egsu.access import scope as gate
from egsu.access.scope import Scope
from egsu.choices import energy_choices, severity_choices
from egsu.vee.models import RULE_CHOICES, Finding
from egsu_core.clock import astana_midnight

_DATE = forms.DateInput(attrs={"type": "date"})


class FindingFilter(django_filters.FilterSet):
    """Filters of the findings in a scope; build it with `FindingFilter.for_scope(scope, data)`."""

    rule = django_filters.ChoiceFilter(label=_("Rule"), choices=RULE_CHOICES, empty_label=_("all"))
    severity = django_filters.ChoiceFilter(
        label=_("Alarm severity"), choices=severity_choices(), empty_label=_("any")
    )
    energy = django_filters.ChoiceFilter(label=_("Energy"), choices=energy_choices(), empty_label=_("all"))
    subject = django_filters.ChoiceFilter(label=_("Subject"), field_name="subject__bin", empty_label=_("all"))
    object = django_filters.CharFilter(label=_("Object code"), field_name="object_id", max_length=64)
    point = django_filters.NumberFilter(
        label=_("Metering point"), field_name="point_id", widget=forms.HiddenInput
    )
    day_from = django_filters.DateFilter(label=_("From"), method="filter_day", widget=_DATE)
    day_to = django_filters.DateFilter(label=_("To"), method="filter_day", widget=_DATE)

    class Meta:
        model = Finding
        fields: list[str] = []

    @classmethod
    def for_scope(cls, scope: Scope, data=None) -> FindingFilter:
        found = cls(data or None, queryset=gate.findings(scope).select_related("point", "subject"))
        offered = gate.energies(scope)
        found.filters["energy"].extra["choices"] = [c for c in energy_choices() if c[0] in offered]
        found.filters["subject"].extra["choices"] = [
            (s.bin, f"{s.short_name or s.name} ({s.bin})")
            for s in gate.subjects(scope).order_by("name").only("bin", "name", "short_name")
        ]
        return found

    def filter_day(self, queryset: QuerySet, name: str, value) -> QuerySet:
        """By the Astana day of the first value concerned."""
        if not value:
            return queryset
        from datetime import timedelta

        if name == "day_from":
            return queryset.filter(first_slot__gte=astana_midnight(value))
        return queryset.filter(first_slot__lt=astana_midnight(value + timedelta(days=1)))

    def findings(self) -> QuerySet:
        found = self.qs if (not self.is_bound or self.is_valid()) else self.queryset
        return found.order_by("-first_slot", "rule", "object_id", "device_id")
