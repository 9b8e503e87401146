"""Filters of the alarms list, its export and /api/v1/alarms: one FilterSet over the gate's alarms."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from egsu.access import scope as gate
from egsu.access.scope import Scope
from egsu.alarms.models import ACTIVE_STATES, Alarm
from egsu.choices import alarm_state_choices, energy_choices, severity_choices

ACTIVE = "active"


class AlarmFilter(django_filters.FilterSet):
    """Build it with `AlarmFilter.for_scope(scope, data)`: choices are the scope's own."""

    state = django_filters.ChoiceFilter(
        label=_("State"), choices=[(ACTIVE, _("open or acknowledged")), *alarm_state_choices()],
        empty_label=_("all"), method="filter_state",
    )  # fmt: skip
    severity = django_filters.ChoiceFilter(
        label=_("Severity"), choices=severity_choices(), empty_label=_("all")
    )
    subject = django_filters.ChoiceFilter(label=_("Subject"), field_name="subject__bin", empty_label=_("all"))
    point = django_filters.NumberFilter(
        label=_("Metering point"), field_name="point_id", widget=forms.HiddenInput
    )
    energy = django_filters.ChoiceFilter(label=_("Energy"), choices=energy_choices(), empty_label=_("all"))
    since = django_filters.DateTimeFilter(
        label=_("Seen since"), field_name="last_seen", lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )  # fmt: skip

    class Meta:
        model = Alarm
        fields: list[str] = []

    @classmethod
    def for_scope(cls, scope: Scope, data=None) -> AlarmFilter:
        found = cls(data or None, queryset=gate.alarms(scope).select_related("subject", "point"))
        found.filters["subject"].extra["choices"] = [
            (s.bin, f"{s.short_name or s.name} ({s.bin})")
            for s in gate.subjects(scope).order_by("name").only("bin", "name", "short_name")
        ]
        return found

    def filter_state(self, queryset, name: str, value: str):
        if value == ACTIVE:
            return queryset.filter(state__in=ACTIVE_STATES)
        return queryset.filter(state=value) if value else queryset

    def alarms(self):
        """The matching alarms, newest first; an invalid form filters nothing."""
        alarms = self.qs if (not self.is_bound or self.is_valid()) else self.queryset
        return alarms.order_by("-last_seen", "-pk")
