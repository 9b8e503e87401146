"""Which readings a cabinet screen (and its export) shows: filters → latest revisions through the gate.

The readings page, the device page and every export build their rows here, so "export what is
on screen" holds the same rows and the same numbers by construction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from egsu.access import scope as gate
from egsu.access.scope import Scope
from egsu.cabinet.readings_stats import QuantityStats, Summary
from egsu.choices import interval_choices
from egsu.clock import astana_date, astana_midnight, utcnow
from egsu.isun.tables import QUANTITIES
from egsu.readings.store import Quality, tidy_value
from egsu.vocabulary import Interval

INTERVALS = interval_choices(
    [Interval.TWO_HOURS, Interval.DAY, Interval.HOUR, Interval.QUARTER_HOUR, Interval.TEN_MINUTES]
)
DEFAULT_DAYS = 7
MAX_DAYS = 366 * 2
TABLE_ORDER = ("period_start", "object_id", "device_id", "quantity")
YES_NO = [("", _("any")), ("yes", _("yes")), ("no", _("no"))]


class ReadingFilterForm(forms.Form):
    """The readings filters; choices come from the user's scope, never from the whole registry."""

    device = forms.IntegerField(label=_("Device"), required=False, widget=forms.HiddenInput)
    facility = forms.ChoiceField(label=_("Facility"), required=False)
    subject = forms.ChoiceField(label=_("Subject"), required=False)
    product = forms.ChoiceField(label=_("Product"), required=False)
    region = forms.ChoiceField(label=_("Region"), required=False)
    quantity = forms.ChoiceField(
        label=_("Quantity"), required=False, choices=[("", _("all"))] + [(q, q) for q in QUANTITIES]
    )
    interval = forms.ChoiceField(label=_("Interval"), required=False, choices=INTERVALS)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    commercial = forms.ChoiceField(label=_("Commercial"), required=False, choices=YES_NO)

    def __init__(self, scope: Scope, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        facilities = gate.facilities(scope).order_by("object_id")
        self.fields["facility"].choices = [("", _("all"))] + [
            (f.object_id, f"{f.object_id} {f.name}") for f in facilities.only("object_id", "name")
        ]
        self.fields["subject"].choices = [("", _("all"))] + [
            (s.bin, f"{s.short_name or s.name} ({s.bin})")
            for s in gate.subjects(scope).order_by("name").only("bin", "name", "short_name")
        ]
        products = gate.devices(scope).exclude(product_type=None).order_by("product_type_id")
        self.fields["product"].choices = [("", _("all"))] + [
            (str(pk), f"{pk} {name}")
            for pk, name in products.values_list("product_type_id", "product_type__name").distinct()
        ]
        regions = facilities.exclude(region="").order_by("region").values_list("region", flat=True).distinct()
        self.fields["region"].choices = [("", _("all"))] + [(r, r) for r in regions]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        if start and end and (end - start).days > MAX_DAYS:
            raise forms.ValidationError(_("Choose a period of at most two years."))
        return data


@dataclass(frozen=True)
class Selection:
    """Validated filters: the period is [start, end) in UTC, computed on the Astana clock."""

    start_date: date
    end_date: date  # inclusive, Astana
    interval: str = "PT2H"
    device_pk: int | None = None
    facility: str = ""
    subject: str = ""
    product: str = ""
    region: str = ""
    quantity: str = ""
    commercial: str = ""
    labels: dict[str, str] = field(default_factory=dict, compare=False)  # filter → what the user chose

    @property
    def start(self) -> datetime:
        return astana_midnight(self.start_date)

    @property
    def end(self) -> datetime:
        return astana_midnight(self.end_date + timedelta(days=1))

    def previous(self) -> Selection:
        """The period of equal length just before this one (AMI-09 dynamics)."""
        days = (self.end_date - self.start_date).days + 1
        return replace(
            self,
            start_date=self.start_date - timedelta(days=days),
            end_date=self.start_date - timedelta(days=1),
        )

    def as_params(self) -> dict[str, str]:
        """Query parameters that rebuild this selection (links, export jobs)."""
        params = {
            "start": self.start_date.isoformat(),
            "end": self.end_date.isoformat(),
            "interval": self.interval,
        }
        for name in ("facility", "subject", "product", "region", "quantity", "commercial"):
            if value := getattr(self, name):
                params[name] = value
        if self.device_pk is not None:
            params["device"] = str(self.device_pk)
        return params


def selection_from(scope: Scope, data, *, device=None) -> tuple[Selection, ReadingFilterForm]:
    """Read the filters; a device, facility or subject outside the scope is a 404, never an empty page."""
    form = ReadingFilterForm(scope, data or None)
    cleaned: dict = {}
    if form.is_bound and not form.is_valid():
        # A facility or subject that is not a choice is someone else's (or none): 404, not an empty page.
        if "facility" in form.errors or "subject" in form.errors:
            raise Http404("no such facility or subject in your scope")
        cleaned = {k: v for k, v in form.cleaned_data.items() if k not in ("start", "end")}
    elif form.is_bound:
        cleaned = form.cleaned_data
    today = astana_date(utcnow())
    end = cleaned.get("end") or today
    start = cleaned.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
    device_pk = device.pk if device is not None else cleaned.get("device")
    labels: dict[str, str] = {}
    if device_pk is not None:
        found = device or gate.devices(scope).select_related("facility").filter(pk=device_pk).first()
        if found is None:
            raise Http404("no such device in your scope")
        labels[str(_("Device"))] = f"{found.facility.object_id}/{found.device_id}"
    for name in ("facility", "subject", "product", "region", "quantity", "commercial"):
        if cleaned.get(name):
            labels[str(form.fields[name].label)] = dict(form.fields[name].choices).get(
                cleaned[name], cleaned[name]
            )
    selection = Selection(
        start_date=start,
        end_date=end,
        interval=cleaned.get("interval") or "PT2H",
        device_pk=device_pk,
        facility=cleaned.get("facility", ""),
        subject=cleaned.get("subject", ""),
        product=cleaned.get("product", ""),
        region=cleaned.get("region", ""),
        quantity=cleaned.get("quantity", ""),
        commercial=cleaned.get("commercial", ""),
        labels=labels,
    )
    labels[str(_("Period"))] = f"{start.isoformat()} – {end.isoformat()}"
    labels[str(_("Interval"))] = str(dict(INTERVALS)[selection.interval])
    return selection, form


def latest_readings(scope: Scope, selection: Selection) -> QuerySet:
    """The newest revision of every selected value (the store's `latest`), through the gate."""
    rows = gate.readings(scope).filter(
        interval=selection.interval, period_start__gte=selection.start, period_start__lt=selection.end
    )
    newer = gate.readings(scope).filter(
        object_id=OuterRef("object_id"),
        device_id=OuterRef("device_id"),
        quantity=OuterRef("quantity"),
        interval=OuterRef("interval"),
        period_start=OuterRef("period_start"),
        revision__gt=OuterRef("revision"),
    )
    rows = rows.filter(~Exists(newer))
    if selection.quantity:
        rows = rows.filter(quantity=selection.quantity)
    if selection.commercial:
        rows = rows.filter(commercial=selection.commercial == "yes")  # ACC-06
    facilities = gate.facilities(scope)
    if selection.facility:
        facilities = facilities.filter(object_id=selection.facility)
    if selection.subject:
        facilities = facilities.filter(subject__bin=selection.subject)
    if selection.region:
        facilities = facilities.filter(region=selection.region)
    if selection.facility or selection.subject or selection.region:
        rows = rows.filter(object_id__in=facilities.values("object_id"))
    if selection.device_pk is not None or selection.product:
        devices = gate.devices(scope).filter(
            facility__object_id=OuterRef("object_id"), device_id=OuterRef("device_id")
        )
        if selection.device_pk is not None:
            devices = devices.filter(pk=selection.device_pk)
        if selection.product:
            devices = devices.filter(product_type_id=selection.product)
        rows = rows.filter(Exists(devices))
    return rows.order_by(*TABLE_ORDER)


@dataclass(frozen=True)
class TableRow:
    """One line of the readings table, the same on screen, in Excel and in PDF."""

    period_start: datetime
    object_id: str
    device_id: str
    quantity: str
    value: Decimal
    unit: str
    quality: str
    revision: int
    commercial: bool

    @property
    def corrected(self) -> bool:
        """Rules §53: a value replaced under a commission act is shown as corrected."""
        return self.quality == Quality.CORRECTED

    @property
    def estimated(self) -> bool:
        """AMI-16: a value the head-end substituted for a missing one is shown as estimated."""
        return self.quality == Quality.ESTIMATED


_ROW_FIELDS = (
    "period_start", "object_id", "device_id", "quantity", "value", "unit", "quality", "revision", "commercial",
)  # fmt: skip


def row_values(rows: QuerySet) -> QuerySet:
    """The selection as plain tuples (cheap to paginate); turn each into a row with `as_table_row`."""
    return rows.values_list(*_ROW_FIELDS)


def as_table_row(values: tuple) -> TableRow:
    start, object_id, device_id, quantity, value, *rest = values
    return TableRow(start, object_id, device_id, quantity, tidy_value(value), *rest)


def table_rows(rows: QuerySet) -> Iterator[TableRow]:
    """Every selected row, streamed (exports)."""
    for values in row_values(rows).iterator(chunk_size=2000):
        yield as_table_row(values)


def summarize(scope: Scope, selection: Selection) -> tuple[Summary, list[QuantityStats]]:
    """Statistics over ALL selected rows (not a page), and the previous period's totals for the dynamics."""
    summary = Summary().extend(_stat_rows(latest_readings(scope, selection)))
    previous = Summary().extend(_stat_rows(latest_readings(scope, selection.previous())))
    return summary, summary.stats(previous.totals())


def _stat_rows(rows: QuerySet):
    for quantity, unit, start, value, quality in rows.values_list(
        "quantity", "unit", "period_start", "value", "quality"
    ).iterator(chunk_size=2000):
        yield quantity, unit, start, tidy_value(value), quality
