"""The ledger and rollups in the admin, read only: intake writes them, nobody edits them by hand."""

from django.contrib import admin

from egsu.monitoring.models import Arrival, PointDay, SubjectDay


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Arrival)
class ArrivalAdmin(ReadOnlyAdmin):
    list_display = (
        "object_id",
        "device_id",
        "interval",
        "period_start",
        "status",
        "on_time",
        "last_received_at",
    )
    list_filter = ("status", "interval", "on_time")
    search_fields = ("object_id", "device_id", "reason_code")
    date_hierarchy = "day"
    raw_id_fields = ("subject", "point")


@admin.register(PointDay)
class PointDayAdmin(ReadOnlyAdmin):
    list_display = ("point", "day", "interval", "on_time", "late", "rejected")
    list_filter = ("interval",)
    date_hierarchy = "day"
    raw_id_fields = ("point",)


@admin.register(SubjectDay)
class SubjectDayAdmin(ReadOnlyAdmin):
    list_display = ("subject", "energy", "day", "interval", "on_time", "late", "rejected")
    list_filter = ("energy", "interval")
    date_hierarchy = "day"
    raw_id_fields = ("subject",)
