from django.contrib import admin

from egsu.signatures.models import OcspReceiptRecord


@admin.register(OcspReceiptRecord)
class OcspReceiptRecordAdmin(admin.ModelAdmin):
    list_display = ("serial", "issuer_key_hash", "produced_at", "document_id", "created_at")
    search_fields = ("serial", "document_id")
    list_filter = ("produced_at",)
    readonly_fields = ("issuer_key_hash", "serial", "produced_at", "document_id", "created_at")
    exclude = ("response_der",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
