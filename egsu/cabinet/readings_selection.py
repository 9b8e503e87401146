"""Which readings a screen, its export and the read API show: points (the one filter) + a period → the store.

Every value comes from the readings store interface (egsu.readings.store), so a page that works
on SQLite works on ClickHouse. The points come from `PointFilter` through the gate; the store is
given them as its `series` filter, except for a national role that narrowed nothing but the energy
(then the energy's quantity codes select the values, and ClickHouse needs no list of a million
meters).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django import forms
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from egsu.access import scope as gate
from egsu.access.scope import Scope
from egsu.choices import interval_choices, label
from egsu.points.filters import PointFilter, choice_label
from egsu.quantities import QUANTITIES, quantities_of
from egsu.readings.services import get_store
from egsu.readings.store import Quality, ReadingQuery, ReadingRow, ReadingsStore
from egsu_core.clock import astana_date, astana_midnight, utcnow
from egsu_core.vocabulary import Interval

DEFAULT_DAYS = 7
MAX_DAYS = 366 * 2
YES_NO = [("", _("any")), ("yes", _("yes")), ("no", _("no"))]
# The point facets that narrow a national question to a list of points (energy does not: see above).
NARROWING = ("q", "subject", "region", "object", "object_kind", "product", "device_type", "commercial",
             "active", "updated_from", "updated_to")  # fmt: skip


class PeriodForm(forms.Form):
    """The period, interval and quantity of a readings question."""

    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    interval = forms.ChoiceField(
        label=_("Interval"), required=False, choices=[("", _("all")), *interval_choices()]
    )
    quantity = forms.ChoiceField(
        label=_("Quantity"), required=False,
        choices=[("", _("all")), *[(code, code) for code in QUANTITIES]],
    )  # fmt: skip
    values_commercial = forms.ChoiceField(label=_("Commercial values"), required=False, choices=YES_NO)

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
    interval: str = ""  # "" = every interval
    quantity: str = ""
    commercial: str = ""  # of the values (ACC-06), "yes"/"no"/""
    point_params: dict[str, str] = field(default_factory=dict, compare=False)
    point_pk: int | None = None  # one point's page
    labels: dict[str, str] = field(default_factory=dict, compare=False)  # filter → what the user chose

    @property
    def start(self) -> datetime:
        return astana_midnight(self.start_date)

    @property
    def end(self) -> datetime:
        return astana_midnight(self.end_date + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def previous(self) -> Selection:
        """The period of equal length just before this one (AMI-09 dynamics)."""
        return replace(
            self,
            start_date=self.start_date - timedelta(days=self.days),
            end_date=self.start_date - timedelta(days=1),
        )

    def year_earlier(self) -> Selection:
        """The same days a year earlier (29 February falls back to the 28th)."""

        def back(day: date) -> date:
            try:
                return day.replace(year=day.year - 1)
            except ValueError:
                return day.replace(year=day.year - 1, day=28)

        return replace(self, start_date=back(self.start_date), end_date=back(self.end_date))

    def as_params(self) -> dict[str, str]:
        """Query parameters that rebuild this selection (links, export jobs, the API)."""
        params = dict(self.point_params)
        params |= {"start": self.start_date.isoformat(), "end": self.end_date.isoformat()}
        for name, value in (("interval", self.interval), ("quantity", self.quantity),
                            ("values_commercial", self.commercial)):  # fmt: skip
            if value:
                params[name] = value
        if self.point_pk is not None:
            params["point"] = str(self.point_pk)
        return params


def selection_from(scope: Scope, data, *, point=None) -> tuple[Selection, PointFilter, PeriodForm]:
    """Read the filters; a subject or point outside the scope is a 404, never an empty page."""
    points = PointFilter.for_scope(scope, data)
    period = PeriodForm(data or None)
    if points.is_bound and not points.is_valid() and "subject" in points.form.errors:
        raise Http404("no such subject in your scope")
    cleaned = period.cleaned_data if period.is_bound and period.is_valid() else {}
    wanted_object = points.form.cleaned_data.get("object") if points.is_bound and points.is_valid() else ""
    if wanted_object and not gate.points(scope).filter(object_code=wanted_object).exists():
        raise Http404("no such object in your scope")
    if point is None and data and data.get("point"):
        try:
            point = gate.points(scope).get(pk=int(data["point"]))
        except (ValueError, gate.points(scope).model.DoesNotExist):
            raise Http404("no such metering point in your scope") from None
    today = astana_date(utcnow())
    end = cleaned.get("end") or today
    start = cleaned.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
    labels: dict[str, str] = {}
    point_params: dict[str, str] = {}
    if point is not None:
        labels[str(_("Metering point"))] = f"{point.name} ({point.object_code})"
    elif points.is_bound and points.is_valid():
        for name, value in points.form.cleaned_data.items():
            if value in ("", None) or name == "group":
                continue
            point_params[name] = value.isoformat() if isinstance(value, date) else str(value)
            chosen = points.form.fields[name]
            labels[str(chosen.label)] = choice_label(chosen, value)
    selection = Selection(
        start_date=start,
        end_date=end,
        interval=cleaned.get("interval") or "",
        quantity=cleaned.get("quantity") or "",
        commercial=cleaned.get("values_commercial") or "",
        point_params=point_params,
        point_pk=point.pk if point is not None else None,
        labels=labels,
    )
    labels[str(_("Period"))] = f"{start.isoformat()} – {end.isoformat()}"
    labels[str(_("Interval"))] = label(selection.interval) if selection.interval else str(_("all"))
    if selection.quantity:
        labels[str(_("Quantity"))] = selection.quantity
    return selection, points, period


def selected_points(scope: Scope, selection: Selection) -> QuerySet:
    if selection.point_pk is not None:
        # one point's series runs on across its device replacements: the devices before and after it
        # (each counted inside its service window, egsu.points.lineage), as far as the gate lets through
        from egsu.points.lineage import chain_ids

        return gate.points(scope).filter(pk__in=chain_ids(selection.point_pk))
    return PointFilter.for_scope(scope, selection.point_params).points()


def reading_query(
    scope: Scope, selection: Selection, *, points: QuerySet | None = None, **changes
) -> ReadingQuery:
    """The store's question for a selection, through the gate.

    `points`: the selection's points when the caller has them already (`selected_points`), so the
    filter is not built twice.
    """
    quantities = [selection.quantity] if selection.quantity else None
    series = None
    narrowed = selection.point_pk is not None or any(selection.point_params.get(n) for n in NARROWING)
    energy = selection.point_params.get("energy")
    national = scope.all_subjects and not narrowed
    if national:
        # Every point of the energies the scope may read: their quantity codes say it exactly.
        energies = [energy] if energy else gate.energies(scope)
        codes = [code for e in energies for code in quantities_of(e)]
        quantities = [q for q in (quantities or codes) if q in codes] or ["-"]
    else:
        series = gate.series(scope, selected_points(scope, selection) if points is None else points)
    commercial = {"yes": True, "no": False}.get(selection.commercial)
    query = ReadingQuery(
        quantities=quantities,
        interval=selection.interval or None,
        start=selection.start,
        end=selection.end,
        commercial=commercial,
        series=series,
    )
    return replace(query, **changes) if changes else query


@dataclass(frozen=True)
class TableRow:
    """One line of the readings table, the same on screen, in Excel, in PDF and in the API."""

    period_start: datetime
    object_id: str
    device_id: str
    quantity: str
    interval: str
    value: Decimal
    unit: str
    quality: str
    revision: int
    commercial: bool
    recorded_at: datetime | None = None

    @property
    def corrected(self) -> bool:
        """Rules §53: a value replaced under a commission act is shown as corrected."""
        return self.quality == Quality.CORRECTED

    @property
    def estimated(self) -> bool:
        """AMI-16: a value the head-end substituted for a missing one is shown as estimated."""
        return self.quality == Quality.ESTIMATED


def as_table_row(row: ReadingRow) -> TableRow:
    return TableRow(
        row.period_start, row.key.object_id, row.key.device_id, row.key.quantity, row.interval, row.value,
        row.unit, row.quality, row.revision, row.commercial, row.recorded_at,
    )  # fmt: skip


class StoreRows:
    """The newest values of a query as a sequence Django's Paginator pages through (count + slices)."""

    def __init__(self, query: ReadingQuery, store: ReadingsStore | None = None, order: str = "time") -> None:
        self.query, self.store, self.order = query, store or get_store(), order
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self.store.count(self.query)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        limit = None if stop is None else max(0, stop - start)
        rows = self.store.rows(self.query, order=self.order, offset=start, limit=limit)
        return [as_table_row(row) for row in rows]


def table_rows(query: ReadingQuery, store: ReadingsStore | None = None) -> Iterator[TableRow]:
    """Every selected value, streamed in time order (exports)."""
    for row in (store or get_store()).rows(query, order="time"):
        yield as_table_row(row)


def finest_interval(selection: Selection) -> str | None:
    """The shortest interval a one-point selection's data has (its own), else None (any)."""
    if selection.point_pk is None:
        return None
    from egsu.points.models import MeteringPoint

    point = MeteringPoint.objects.filter(pk=selection.point_pk).first()
    intervals = point.intervals if point else []
    return min(intervals, key=lambda code: Interval(code).step) if intervals else None


CHART_POINTS = 2000  # a line of more points than a screen has pixels shows nothing more


def chart_bucket(selection: Selection, finest: str | None = None) -> str:
    """The finest aggregate bucket whose line stays under CHART_POINTS points for the period.

    `finest` is the shortest interval the data has (a point's own); buckets finer than the data
    cost nothing (the store returns only buckets with values), so a short period of 2-hourly values
    is drawn value by value and a year of quarter hours day by day.
    """
    data = Interval(selection.interval or finest or finest_interval(selection) or Interval.QUARTER_HOUR)
    per_day_of_data = timedelta(days=1) / (data.step or timedelta(days=1))
    for bucket in (Interval.QUARTER_HOUR, Interval.HOUR, Interval.DAY):
        if selection.days * min(timedelta(days=1) / bucket.step, per_day_of_data) <= CHART_POINTS:
            return bucket
    return Interval.MONTH if selection.days > CHART_POINTS else Interval.DAY
