"""Read-only view of the outbox for the administrator (a failed message is sent again from the cabinet)."""

from django.contrib import admin

from egsu.admin_views import ViewOrDeleteAdmin
from egsu.mail.models import Mail, MailAttachment


@admin.register(Mail)
class MailAdmin(ViewOrDeleteAdmin):
    list_display = ("pk", "recipient", "subject", "language", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "language")
    search_fields = ("recipient", "subject", "dedupe_key")
    exclude = ("body",)
    readonly_fields = ("recipient", "subject", "language", "sender", "dedupe_key", "message_id", "status",
                       "attempts", "last_error", "next_try_at", "created_at", "sent_at")  # fmt: skip


@admin.register(MailAttachment)
class MailAttachmentAdmin(ViewOrDeleteAdmin):
    list_display = ("pk", "mail", "file_name", "content_type")
    exclude = ("content",)
    readonly_fields = ("mail", "file_name", "content_type")
