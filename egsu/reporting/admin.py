from django.contrib import admin

from egsu.reporting.models import Report, ReportFile, Subscription


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("kind", "frequency", "level", "area_label", "period_start", "status", "built_at")
    list_filter = ("kind", "frequency", "level", "status")
    readonly_fields = ("figures",)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "frequency", "level", "area", "created_at")
    list_filter = ("kind", "frequency", "level")


@admin.register(ReportFile)
class ReportFileAdmin(admin.ModelAdmin):
    list_display = ("report", "language", "format", "file_name", "size", "created_at")
    list_filter = ("language", "format")
