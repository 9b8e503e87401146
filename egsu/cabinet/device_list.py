"""The device list: search, filters, grouping and the status of each device (AMI-03, AMI-04, AMI-07).

Search is a table of named fields → ORM lookups, so the AMI meters' personal account, address
and counterparty plug in by adding lookups to `SEARCH_FIELDS`, not by editing the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django import forms
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from egsu.access import scope as gate
from egsu.access.scope import Scope
from egsu.cabinet.readings_selection import YES_NO
from egsu.choices import energy_choices
from egsu.clock import astana_midnight, utcnow
from egsu.isun.tables import FACILITY_KINDS
from egsu.vocabulary import Energy, Interval

# AMI-03: search by name, serial number, personal account, address and counterparty. Oil and gas
# devices have no personal account yet; the AMI meters add theirs here.
SEARCH_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("facility__name", "facility__object_id", "device_id", "model_name"),
    "serial": ("serial_number",),
    "account": (),
    "address": ("facility__region", "facility__subject__address"),
    "counterparty": ("facility__subject__name", "facility__subject__short_name", "facility__subject__bin"),
}
SEARCH_LABELS = {
    "name": _("name"),
    "serial": _("serial number"),
    "account": _("account"),
    "address": _("address"),
    "counterparty": _("counterparty"),
}


GROUPS: dict[str, tuple[str, str]] = {  # group name → (ORM path of the key, of its label)
    "kind": ("facility__kind", "facility__kind"),
    "subject": ("facility__subject__bin", "facility__subject__name"),
    "region": ("facility__region", "facility__region"),
    "product": ("product_type_id", "product_type__name"),
    "device_type": ("device_type_id", "device_type__name_en"),
    "commercial": ("commercial", "commercial"),
    "active": ("active", "active"),
}
GROUP_LABELS = {
    "": _("no grouping"),
    "kind": _("facility kind"),
    "subject": _("subject"),
    "region": _("region"),
    "product": _("product"),
    "device_type": _("device type"),
    "commercial": _("commercial"),
    "active": _("active"),
}
PAGE_SIZE = 50


class DeviceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    search_in = forms.ChoiceField(
        label=_("Search in"), required=False, choices=[("", _("everything")), *SEARCH_LABELS.items()]
    )
    kind = forms.ChoiceField(
        label=_("Facility kind"), required=False, choices=[("", _("all")), *[(k, k) for k in FACILITY_KINDS]]
    )
    subject = forms.ChoiceField(label=_("Subject"), required=False)
    region = forms.ChoiceField(label=_("Region"), required=False)
    product = forms.ChoiceField(label=_("Product"), required=False)
    device_type = forms.ChoiceField(label=_("Device type"), required=False)
    commercial = forms.ChoiceField(label=_("Commercial"), required=False, choices=YES_NO)
    active = forms.ChoiceField(label=_("Active"), required=False, choices=YES_NO)
    updated_from = forms.DateField(
        label=_("Last update from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    updated_to = forms.DateField(
        label=_("Last update to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    group = forms.ChoiceField(label=_("Group by"), required=False, choices=list(GROUP_LABELS.items()))

    def __init__(self, scope: Scope, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        devices = gate.devices(scope)
        self.fields["subject"].choices = [("", _("all"))] + [
            (s.bin, f"{s.short_name or s.name} ({s.bin})")
            for s in gate.subjects(scope).order_by("name").only("bin", "name", "short_name")
        ]
        regions = gate.facilities(scope).exclude(region="").order_by("region")
        self.fields["region"].choices = [("", _("all"))] + [
            (r, r) for r in regions.values_list("region", flat=True).distinct()
        ]
        products = devices.exclude(product_type=None).order_by("product_type_id")
        self.fields["product"].choices = [("", _("all"))] + [
            (str(pk), f"{pk} {name}")
            for pk, name in products.values_list("product_type_id", "product_type__name").distinct()
        ]
        types = devices.order_by("device_type_id").values_list("device_type_id", "device_type__name_en")
        self.fields["device_type"].choices = [("", _("all"))] + [
            (str(pk), f"{pk} {name}") for pk, name in types.distinct()
        ]


def search_q(text: str, where: str = "") -> Q:
    """Every word must match one of the searched fields (case-insensitive)."""
    lookups = SEARCH_FIELDS.get(where, ()) if where else tuple(f for fs in SEARCH_FIELDS.values() for f in fs)
    query = Q()
    for word in text.split():
        if not lookups:
            return Q(pk__in=[])
        query &= reduce(or_, (Q(**{f"{lookup}__icontains": word}) for lookup in lookups))
    return query


def with_last_reading(scope: Scope, devices: QuerySet) -> QuerySet:
    """Annotate the newest value's period start, interval and arrival time (AMI-07 "last update")."""
    newest = (
        gate.readings(scope)
        .filter(object_id=OuterRef("facility__object_id"), device_id=OuterRef("device_id"))
        .order_by("-period_start", "-recorded_at")
    )
    return devices.annotate(
        last_period=Subquery(newest.values("period_start")[:1]),
        last_interval=Subquery(newest.values("interval")[:1]),
        last_recorded=Subquery(newest.values("recorded_at")[:1]),
    )


def filtered_devices(scope: Scope, form: DeviceFilterForm) -> QuerySet:
    """The devices in scope matching the form (an invalid form filters nothing), with their last reading."""
    devices = gate.devices(scope).select_related("facility__subject", "device_type", "product_type")
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if data.get("q"):
        devices = devices.filter(search_q(data["q"], data.get("search_in", "")))
    for name, lookup in (
        ("kind", "facility__kind"),
        ("subject", "facility__subject__bin"),
        ("region", "facility__region"),
        ("product", "product_type_id"),
        ("device_type", "device_type_id"),
    ):
        if data.get(name):
            devices = devices.filter(**{lookup: data[name]})
    for name in ("commercial", "active"):
        if data.get(name):
            devices = devices.filter(**{name: data[name] == "yes"})
    devices = with_last_reading(scope, devices)
    if data.get("updated_from"):
        devices = devices.filter(last_period__gte=astana_midnight(data["updated_from"]))
    if data.get("updated_to"):
        devices = devices.filter(last_period__lt=astana_midnight(data["updated_to"] + timedelta(days=1)))
    group = data.get("group", "")
    order = [GROUPS[group][0]] if group else []
    return devices.order_by(*order, "facility__object_id", "device_id")


def group_counts(devices: QuerySet, group: str) -> list[dict]:
    """Per group: how many devices, how many active (AMI-10 statistics of meters)."""
    if not group:
        return []
    key, label = GROUPS[group]
    rows = (
        devices.order_by()
        .values(key, label)
        .annotate(total=Count("pk"), active_count=Count("pk", filter=Q(active=True)))
        .order_by(key)
    )
    return [
        {"key": r[key], "label": r[label], "total": r["total"], "active": r["active_count"]} for r in rows
    ]


@dataclass(frozen=True)
class DeviceStatus:
    """AMI-04: active or not; AMI-07: the last update and whether it is current."""

    active: bool
    last_period: datetime | None
    last_recorded: datetime | None
    current: bool

    @property
    def code(self) -> str:
        """A CSS status class: ok (current), late (stale), missing (never), bad (inactive)."""
        if not self.active:
            return "bad"
        if self.last_period is None:
            return "missing"
        return "ok" if self.current else "late"

    @property
    def label(self) -> str:
        return str(
            {"bad": _("inactive"), "missing": _("no data"), "ok": _("current"), "late": _("stale")}[self.code]
        )


def device_status(device, now: datetime | None = None) -> DeviceStatus:
    """From a device annotated by `with_last_reading`."""
    now = now or utcnow()
    last_period = getattr(device, "last_period", None)
    interval = Interval(getattr(device, "last_interval", None) or Interval.TWO_HOURS)
    current = False
    if last_period is not None:
        current = now - (last_period + interval.step) <= interval.current_within
    return DeviceStatus(device.active, last_period, getattr(device, "last_recorded", None), current)


# ---------------------------------------------------------------- AMI meters (issue 5 with issue 7)

# AMI-03 for meters: the same five searches, over the meter's own personal account, address and
# counterparty (and its metering object's name, code and address).
METER_SEARCH_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("metering_object__name", "metering_object__code", "model"),
    "serial": ("serial_number",),
    "account": ("account",),
    "address": ("address", "metering_object__address", "metering_object__region"),
    "counterparty": ("counterparty", "subject__name", "subject__short_name", "subject__bin"),
}
METER_GROUPS: dict[str, tuple[str, str]] = {
    "subject": ("subject__bin", "subject__name"),
    "region": ("metering_object__region", "metering_object__region"),
    "commercial": ("commercial", "commercial"),
    "active": ("active", "active"),
}
ENERGY_LABELS = {energy.value: label for energy, (_code, label) in zip(Energy, energy_choices(), strict=True)}


class MeterFilterForm(forms.Form):
    energy = forms.CharField(widget=forms.HiddenInput, required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    search_in = forms.ChoiceField(
        label=_("Search in"), required=False, choices=[("", _("everything")), *SEARCH_LABELS.items()]
    )
    region = forms.CharField(label=_("Region"), required=False, max_length=100)
    commercial = forms.ChoiceField(label=_("Commercial"), required=False, choices=YES_NO)
    active = forms.ChoiceField(label=_("Active"), required=False, choices=YES_NO)
    group = forms.ChoiceField(
        label=_("Group by"),
        required=False,
        choices=[("", _("no grouping")), ("subject", _("subject")), ("region", _("region")),
                 ("commercial", _("commercial")), ("active", _("active"))],
    )  # fmt: skip


def meter_search_q(text: str, where: str = "") -> Q:
    """Every word must match one of the meter's searched fields (case-insensitive)."""
    if where:
        lookups = METER_SEARCH_FIELDS.get(where, ())
    else:
        lookups = tuple(f for fs in METER_SEARCH_FIELDS.values() for f in fs)
    query = Q()
    for word in text.split():
        if not lookups:
            return Q(pk__in=[])
        query &= reduce(or_, (Q(**{f"{lookup}__icontains": word}) for lookup in lookups))
    return query


def with_last_meter_reading(scope: Scope, meters: QuerySet) -> QuerySet:
    """Annotate the newest value of any channel (AMI-07 "last update"), through the gate."""
    from django.db.models import CharField
    from django.db.models.functions import Cast

    newest = (
        gate.meter_readings(scope)
        .filter(
            object_id=OuterRef("metering_object__code"),
            device_id=Cast(OuterRef("pk"), output_field=CharField()),
        )
        .order_by("-period_start", "-recorded_at")
    )
    return meters.annotate(
        last_period=Subquery(newest.values("period_start")[:1]),
        last_interval=Subquery(newest.values("interval")[:1]),
        last_recorded=Subquery(newest.values("recorded_at")[:1]),
    )


def filtered_meters(scope: Scope, energy: str, form: MeterFilterForm) -> QuerySet:
    """The meters of one energy in scope matching the form, with their last reading."""
    meters = gate.meters(scope).filter(energy=energy).select_related("metering_object", "subject")
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if data.get("q"):
        meters = meters.filter(meter_search_q(data["q"], data.get("search_in", "")))
    if data.get("region"):
        meters = meters.filter(metering_object__region__iexact=data["region"])
    for name in ("commercial", "active"):
        if data.get(name):
            meters = meters.filter(**{name: data[name] == "yes"})
    group = data.get("group", "")
    order = [METER_GROUPS[group][0]] if group else []
    return with_last_meter_reading(scope, meters).order_by(*order, "metering_object__code", "serial_number")


def meter_group_counts(meters: QuerySet, group: str) -> list[dict]:
    if not group:
        return []
    key, label = METER_GROUPS[group]
    rows = (
        meters.order_by()
        .values(key, label)
        .annotate(total=Count("pk"), active_count=Count("pk", filter=Q(active=True)))
        .order_by(key)
    )
    return [
        {"key": r[key], "label": r[label], "total": r["total"], "active": r["active_count"]} for r in rows
    ]
