"""Read-only view of the outbox for the administrator (a failed message is sent again from the cabinet)."""

from django.contrib import admin

from egsu.mail.models import Mail, MailAttachment


@admin.register(Mail)
class MailAdmin(admin.ModelAdmin):
    list_display = ("pk", "recipient", "subject", "language", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "language")
    search_fields = ("recipient", "subject", "dedupe_key")
    exclude = ("body",)
    readonly_fields = ("recipient", "subject", "language", "sender", "dedupe_key", "message_id", "status",
                       "attempts", "last_error", "next_try_at", "created_at", "sent_at")  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MailAttachment)
class MailAttachmentAdmin(admin.ModelAdmin):
    list_display = ("pk", "mail", "file_name", "content_type")
    exclude = ("content",)
    readonly_fields = ("mail", "file_name", "content_type")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
