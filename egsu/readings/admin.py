"""Read-only admin for stored readings: values change only through intake and correction acts.

On the SQL backend it is a plain changelist of the readings table. On ClickHouse that table is empty,
so the list is read through the readings store instead (`store_changelist`): the newest revision of
each value, filtered by object, device, quantity and interval, a page at a time.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from egsu.readings.models import INTERVAL_CHOICES, Reading
from egsu.readings.store import KNOWN_INTERVALS, ReadingQuery, tidy_value
from egsu_core.clock import format_astana


class ExactTextFilter(admin.SimpleListFilter):
    """A text box instead of a list: ids have too many distinct values to list them all."""

    template = "admin/readings/exact_text_filter.html"
    field_name = ""

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("", "")]  # unused; the template renders a text box

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        value = (self.value() or "").strip()
        return queryset.filter(**{self.field_name: value}) if value else queryset

    def choices(self, changelist):
        kept = {
            name: value for name, value in changelist.params.items() if name not in {self.parameter_name, "p"}
        }
        yield {"parameter_name": self.parameter_name, "value": self.value() or "", "kept": kept}


class ObjectFilter(ExactTextFilter):
    title = _("object id")
    parameter_name = "object"
    field_name = "object_id"


class DeviceFilter(ExactTextFilter):
    title = _("device id")
    parameter_name = "device"
    field_name = "device_id"


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = [
        "object_id",
        "device_id",
        "quantity",
        "interval",
        "period_start_astana",
        "value_shown",
        "unit",
        "quality",
        "commercial",
        "revision",
        "source",
    ]
    list_filter = [
        ObjectFilter,
        DeviceFilter,
        "quantity",
        "interval",
        "quality",
        "commercial",
        ("period_start", admin.DateFieldListFilter),
    ]
    search_fields = ["=object_id", "=device_id", "=source"]
    ordering = ["object_id", "device_id", "quantity", "interval", "-period_start", "-revision"]
    readonly_fields = ["period_start_astana", "value_shown", "recorded_at_astana"]
    fields = [
        "object_id",
        "device_id",
        "quantity",
        "interval",
        "period_start_astana",
        "value_shown",
        "unit",
        "quality",
        "commercial",
        "source",
        "revision",
        "recorded_at_astana",
    ]
    show_full_result_count = False  # counting a national-scale table on every page is too slow
    list_per_page = 100

    @admin.display(description=_("period start (Astana)"), ordering="period_start")
    def period_start_astana(self, reading: Reading) -> str:
        return format_astana(reading.period_start)

    @admin.display(description=_("value"), ordering="value")
    def value_shown(self, reading: Reading) -> str:
        return str(tidy_value(reading.value))

    @admin.display(description=_("recorded at (Astana)"), ordering="recorded_at")
    def recorded_at_astana(self, reading: Reading) -> str:
        return format_astana(reading.recorded_at)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if getattr(settings, "READINGS_BACKEND", "sql") == "sql":
            return super().changelist_view(request, extra_context)
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return store_changelist(self, request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Reading | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Reading | None = None) -> bool:
        return False


_STORE_FILTERS = ("object", "device", "quantity", "interval")
_STORE_COLUMNS = ("object_id", "device_id", "quantity", "interval", "period_start", "value", "unit", "quality",
                  "commercial", "revision", "source")  # fmt: skip


def store_changelist(model_admin: ReadingAdmin, request: HttpRequest) -> TemplateResponse:
    """The readings list read through the readings store (every backend answers alike)."""
    from egsu.readings.services import get_store

    params = {name: request.GET.get(name, "").strip()[:64] for name in _STORE_FILTERS}
    if params["interval"] not in KNOWN_INTERVALS:
        params["interval"] = ""
    query = ReadingQuery(
        object_ids=[params["object"]] if params["object"] else None,
        device_ids=[params["device"]] if params["device"] else None,
        quantities=[params["quantity"]] if params["quantity"] else None,
        interval=params["interval"] or None,
    )
    try:
        page = max(0, min(int(request.GET.get("p", "0")), 10_000))
    except ValueError:
        page = 0
    size = model_admin.list_per_page
    found = list(get_store().rows(query, order="series", offset=page * size, limit=size + 1))
    rows = [
        [row.key.object_id, row.key.device_id, row.key.quantity, row.interval, format_astana(row.period_start),
         str(tidy_value(row.value)), row.unit, row.quality, row.commercial, row.revision, row.source]
        for row in found[:size]
    ]  # fmt: skip
    kept = {name: value for name, value in params.items() if value}
    labels = {name: Reading._meta.get_field(name).verbose_name for name in _STORE_COLUMNS}
    labels["period_start"], labels["value"] = _("period start (Astana)"), _("value")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Reading._meta,
        "title": Reading._meta.verbose_name_plural,
        "backend": "ClickHouse" if settings.READINGS_BACKEND == "clickhouse" else settings.READINGS_BACKEND,
        "params": params,
        "intervals": INTERVAL_CHOICES,
        "labels": labels,
        "columns": [labels[name] for name in _STORE_COLUMNS],
        "rows": rows,
        "page": page,
        "previous_query": urlencode({**kept, "p": page - 1}) if page else "",
        "next_query": urlencode({**kept, "p": page + 1}) if len(found) > size else "",
    }
    return TemplateResponse(request, "admin/readings/store_changelist.html", context)
