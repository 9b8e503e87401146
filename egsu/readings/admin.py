"""Read-only admin for stored readings: values change only through intake and correction acts."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from egsu.readings.models import Reading
from egsu.readings.store import tidy_value
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Reading | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Reading | None = None) -> bool:
        return False
