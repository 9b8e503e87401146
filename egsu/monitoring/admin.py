"""The ledger and rollups in the admin, read only: intake writes them, nobody edits them by hand."""

from django.contrib import admin

from egsu.admin_views import ViewOnlyAdmin
from egsu.monitoring.models import Arrival, PointDay, SubjectDay, SubjectPeriod


@admin.register(Arrival)
class ArrivalAdmin(ViewOnlyAdmin):
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
class PointDayAdmin(ViewOnlyAdmin):
    list_display = ("point", "day", "interval", "on_time", "late", "rejected")
    list_filter = ("interval",)
    date_hierarchy = "day"
    raw_id_fields = ("point",)


@admin.register(SubjectDay)
class SubjectDayAdmin(ViewOnlyAdmin):
    list_display = ("subject", "energy", "day", "interval", "on_time", "late", "rejected")
    list_filter = ("energy", "interval")
    date_hierarchy = "day"
    raw_id_fields = ("subject",)


@admin.register(SubjectPeriod)
class SubjectPeriodAdmin(ViewOnlyAdmin):
    list_display = ("subject", "energy", "interval", "period_start", "due_at", "on_time", "late", "rejected")
    list_filter = ("energy", "interval")
    raw_id_fields = ("subject",)
