from django.contrib import admin

from egsu.reports.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "what", "format", "status", "rows_done", "rows_total", "created_by", "created_at")
    list_filter = ("status", "what", "format")
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
