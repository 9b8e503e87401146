"""The one filter of metering points: the list page, its export, the readings page and the API use it.

django-filter's FilterSet over the points the gate lets through (egsu.access.scope.points), so a
choice offered is always one the user may see, and a filter never widens the scope. Search is a
table of named fields (AMI-03: name, serial number, personal account, address, counterparty).
"""

from __future__ import annotations

from datetime import timedelta
from functools import reduce
from operator import or_

import django_filters
from django import forms
from django.db.models import Max, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.fields import ChoiceField

from egsu.access import scope as gate
from egsu.access.scope import Scope
from egsu.choices import energy_choices
from egsu.points.models import MeteringPoint
from egsu_core.clock import utcnow

# AMI-03: search by name, serial number, personal account, address and counterparty.
SEARCH_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name", "object_name", "object_code", "model_name"),
    "serial": ("serial_number",),
    "account": ("account",),
    "address": ("address", "region"),
    "counterparty": ("counterparty", "subject__name", "subject__short_name", "subject__bin"),
}
SEARCH_LABELS = {
    "name": _("name"),
    "serial": _("serial number"),
    "account": _("account"),
    "address": _("address"),
    "counterparty": _("counterparty"),
}
YES_NO = [("yes", _("yes")), ("no", _("no"))]
ALARM_DAYS = 7  # a meter alarm event counts as recent for a week

# group name → (field of the key, field of its label); the list counts points per group (AMI-10).
GROUPS: dict[str, tuple[str, str]] = {
    "energy": ("energy", "energy"),
    "subject": ("subject__bin", "subject__name"),
    "region": ("region", "region"),
    "object_kind": ("object_kind", "object_kind"),
    "product": ("product", "product"),
    "device_type": ("device_type", "device_type"),
    "commercial": ("commercial", "commercial"),
    "active": ("active", "active"),
}
GROUP_LABELS = {
    "": _("no grouping"),
    "energy": _("energy"),
    "subject": _("subject"),
    "region": _("region"),
    "object_kind": _("object kind"),
    "product": _("product"),
    "device_type": _("device type"),
    "commercial": _("commercial"),
    "active": _("active"),
}


def search_q(text: str, where: str = "") -> Q:
    """Every word must match one of the searched fields (case-insensitive)."""
    lookups = SEARCH_FIELDS.get(where, ()) if where else tuple(f for fs in SEARCH_FIELDS.values() for f in fs)
    query = Q()
    for word in text.split():
        if not lookups:
            return Q(pk__in=[])
        query &= reduce(or_, (Q(**{f"{lookup}__icontains": word}) for lookup in lookups))
    return query


class _FacetChoices:
    """The distinct values of one facet in scope, read only when a form asks (a value to check, a page to
    draw), and then once: over a million points each list is a scan, and an API question naming no facet
    needs none. A callable, so Django's ChoiceField reads it lazily."""

    def __init__(self, points: QuerySet, name: str) -> None:
        self.points, self.name = points, name
        self._values: list[tuple[str, str]] | None = None

    def __call__(self) -> list[tuple[str, str]]:
        if self._values is None:
            name = self.name
            values = self.points.exclude(**{name: ""}).order_by(name).values_list(name, flat=True).distinct()
            self._values = [(v, v) for v in values]
        return self._values

    def __len__(self) -> int:
        return len(self())

    def offers(self, value: str) -> bool:
        """Whether `value` is one of the choices, without listing them when they are not read yet: one
        EXISTS on the facet's index instead of a DISTINCT over every point in scope (issue 13: the
        region asked of a national month was checked against 1.25 million points). The same answer
        as the list: a non-empty value some point in scope has."""
        if self._values is not None:
            return any(value == choice for choice, _label in self._values)
        return value != "" and self.points.filter(**{self.name: value}).exists()


def _facet_choices(points: QuerySet, name: str) -> _FacetChoices:
    return _FacetChoices(points, name)


class FacetField(ChoiceField):
    """A facet's choice field: a value is checked with `_FacetChoices.offers` (the error for a value no
    point in scope has is ChoiceField's own); the list is read only to draw the form."""

    facet: _FacetChoices | None = None

    def __init__(self, *args, **kwargs) -> None:
        choices = kwargs.get("choices")
        self.facet = choices if isinstance(choices, _FacetChoices) else None
        super().__init__(*args, **kwargs)

    def valid_value(self, value) -> bool:
        if self.facet is None:
            return super().valid_value(value)
        return self.facet.offers(str(value))

    def label_of(self, value: str) -> str:
        """A facet's label is its value (what the selection's summary shows), read without the list."""
        return value


class FacetFilter(django_filters.ChoiceFilter):
    field_class = FacetField


def choice_label(field: forms.Field, value) -> str:
    """What a chosen value of a filter field reads as (the selection's summary)."""
    label_of = getattr(field, "label_of", None)
    if label_of is not None:
        return str(label_of(value))
    return str(dict(getattr(field, "choices", []) or []).get(value, value))


class PointFilter(django_filters.FilterSet):
    """Filters of the points in a scope; build it with `PointFilter.for_scope(scope, data)`."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_search", max_length=100)
    search_in = django_filters.ChoiceFilter(
        label=_("Search in"), choices=list(SEARCH_LABELS.items()), empty_label=_("everything"), method="keep"
    )
    energy = django_filters.ChoiceFilter(label=_("Energy"), choices=energy_choices(), empty_label=_("all"))
    subject = django_filters.ChoiceFilter(label=_("Subject"), field_name="subject__bin", empty_label=_("all"))
    region = FacetFilter(label=_("Region"), empty_label=_("all"))
    object = django_filters.CharFilter(label=_("Object code"), field_name="object_code", max_length=64)
    object_kind = FacetFilter(label=_("Object kind"), empty_label=_("all"))
    product = FacetFilter(label=_("Product"), empty_label=_("all"))
    device_type = FacetFilter(label=_("Device type"), empty_label=_("all"))
    commercial = django_filters.ChoiceFilter(
        label=_("Commercial"), choices=YES_NO, empty_label=_("any"), method="filter_yes_no"
    )
    active = django_filters.ChoiceFilter(
        label=_("Active"), choices=YES_NO, empty_label=_("any"), method="filter_yes_no"
    )
    updated_from = django_filters.DateFilter(
        label=_("Last arrival from"), method="filter_updated", widget=forms.DateInput(attrs={"type": "date"})
    )
    updated_to = django_filters.DateFilter(
        label=_("Last arrival to"), method="filter_updated", widget=forms.DateInput(attrs={"type": "date"})
    )
    alarms = django_filters.ChoiceFilter(
        label=_("Meter alarms"), choices=[("recent", _("in the last 7 days"))], empty_label=_("any"),
        method="filter_alarms",
    )  # fmt: skip
    group = django_filters.ChoiceFilter(
        label=_("Group by"), choices=[(k, v) for k, v in GROUP_LABELS.items() if k], empty_label=_("no grouping"),
        method="keep",
    )  # fmt: skip

    class Meta:
        model = MeteringPoint
        fields: list[str] = []

    @classmethod
    def for_scope(cls, scope: Scope, data=None, *, energy: str | None = None) -> PointFilter:
        """The filter over what the scope sees; choices are the scope's own facets."""
        points = gate.points(scope)
        found = cls(data or None, queryset=points.select_related("subject"))
        found.scope = scope
        offered = [e for e in gate.energies(scope)]
        found.filters["energy"].extra["choices"] = [c for c in energy_choices() if c[0] in offered]
        found.filters["subject"].extra["choices"] = [
            (s.bin, f"{s.short_name or s.name} ({s.bin})")
            for s in gate.subjects(scope).order_by("name").only("bin", "name", "short_name")
        ]
        for name in ("region", "object_kind", "product", "device_type"):
            found.filters[name].extra["choices"] = _facet_choices(points, name)
        return found

    # -- methods

    def keep(self, queryset: QuerySet, name: str, value) -> QuerySet:
        """A parameter that shapes the answer (search field, grouping), not the points."""
        return queryset

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        where = self.form.cleaned_data.get("search_in") or ""
        return queryset.filter(search_q(value, where)) if value.strip() else queryset

    def filter_yes_no(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**{name: value == "yes"}) if value else queryset

    def filter_alarms(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Meters that registered an alarm event (MTR-06..10: cover opened, magnetic field …) lately."""
        if value != "recent":
            return queryset
        since = utcnow() - timedelta(days=ALARM_DAYS)
        return queryset.filter(pk__in=MeteringPoint.objects.filter(
            meter__events__alarm=True, meter__events__occurred_at__gte=since
        ).values("pk"))  # fmt: skip

    def filter_updated(self, queryset: QuerySet, name: str, value) -> QuerySet:
        """By the Astana day of the newest arrival (the arrivals rollup, not the readings)."""
        if not value:
            return queryset
        queryset = queryset.annotate(last_day=Max("arrival_days__day"))
        return (
            queryset.filter(last_day__gte=value)
            if name == "updated_from"
            else queryset.filter(last_day__lte=value)
        )

    # -- what the page, the export and the API read

    @property
    def grouping(self) -> str:
        return (self.form.cleaned_data.get("group") or "") if self.is_bound and self.is_valid() else ""

    def points(self) -> QuerySet:
        """The matching points, ordered (by group first when grouping); an invalid form filters nothing."""
        points = self.qs if (not self.is_bound or self.is_valid()) else self.queryset
        order = [GROUPS[self.grouping][0]] if self.grouping else []
        return points.order_by(*order, "energy", "object_code", "store_device_id")
