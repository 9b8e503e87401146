"""Metering points in the admin, read only: they are derived from devices and meters (edit those)."""

from django.contrib import admin

from egsu.points.models import MeteringPoint


@admin.register(MeteringPoint)
class MeteringPointAdmin(admin.ModelAdmin):
    list_display = ("name", "energy", "object_code", "subject", "region", "active", "owes")
    list_filter = ("energy", "active", "owes", "commercial")
    search_fields = ("name", "object_code", "serial_number", "account", "subject__name", "subject__bin")
    raw_id_fields = ("device", "meter", "subject", "supplier")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
