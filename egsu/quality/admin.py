"""Acts are read-only in the admin: they change only through egsu.quality.services (audited)."""

from django.contrib import admin

from egsu.admin_views import ViewOnlyAdmin
from egsu.quality.models import CorrectionAct, CorrectionLine


class CorrectionLineInline(admin.TabularInline):
    model = CorrectionLine
    extra = 0
    fields = (
        "object_id", "device_id", "quantity", "interval", "period_start",
        "original_value", "original_revision", "corrected_value", "unit", "applied_revision",
    )  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CorrectionAct)
class CorrectionActAdmin(ViewOnlyAdmin):
    list_display = ("number", "status", "subject", "facility", "proposed_by", "proposed_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("number", "subject__bin", "subject__name", "facility__object_id", "reason")
    date_hierarchy = "proposed_at"
    inlines = [CorrectionLineInline]
    exclude = ("pdf",)


@admin.register(CorrectionLine)
class CorrectionLineAdmin(ViewOnlyAdmin):
    list_display = (
        "act",
        "object_id",
        "device_id",
        "quantity",
        "period_start",
        "original_value",
        "corrected_value",
    )
    search_fields = ("act__number", "object_id", "device_id")
