from django.contrib import admin

from egsu.admin_views import ViewOnlyAdmin
from egsu.signatures.models import OcspReceiptRecord, StoredCrl


@admin.register(OcspReceiptRecord)
class OcspReceiptRecordAdmin(ViewOnlyAdmin):
    list_display = ("serial", "issuer_key_hash", "produced_at", "document_id", "created_at")
    search_fields = ("serial", "document_id")
    list_filter = ("produced_at",)
    readonly_fields = ("issuer_key_hash", "serial", "produced_at", "document_id", "created_at")
    exclude = ("response_der",)


@admin.register(StoredCrl)
class StoredCrlAdmin(admin.ModelAdmin):
    """The CRLs the gateway downloaded (SIG-09): viewable; deleting one makes the next message fetch it again."""

    list_display = ("issuer", "delta", "number", "this_update", "next_update", "fetched_at")
    list_filter = ("delta",)
    search_fields = ("issuer", "url")
    readonly_fields = (
        "issuer_key_hash",
        "delta",
        "issuer",
        "number",
        "this_update",
        "next_update",
        "url",
        "fetched_at",
    )
    exclude = ("der",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
