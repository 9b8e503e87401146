from django.contrib import admin

from egsu.inforequests.models import InfoRequest


@admin.register(InfoRequest)
class InfoRequestAdmin(admin.ModelAdmin):
    list_display = ("pk", "organisation", "what", "status", "filed_at", "decided_at", "available_until")
    list_filter = ("status", "what")
    readonly_fields = ("requester", "decided_by", "package_xlsx", "package_csv")
