"""Read-only admin for the journal: the evidence of what crossed the wire is never edited here."""

from __future__ import annotations

import zlib

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from egsu.journal import services
from egsu.journal.masking import mask_passwords
from egsu.journal.models import JournalEntry
from egsu_core.clock import format_astana


@admin.register(JournalEntry)
class JournalEntryAdmin(admin.ModelAdmin):
    list_display = [
        "occurred_astana",
        "direction",
        "message_id",
        "sender_id",
        "addressee",
        "service_id",
        "status_code",
        "records_total",
        "records_rejected",
        "size",
    ]
    list_filter = ["direction", "status_code", "service_id", ("occurred_at", admin.DateFieldListFilter)]
    search_fields = ["=message_id", "=sender_id", "=correlation_id"]
    ordering = ["-occurred_at", "-pk"]
    show_full_result_count = False
    list_per_page = 100
    fields = [
        "occurred_astana",
        "direction",
        "message_id",
        "correlation_id",
        "related",
        "sender_id",
        "addressee",
        "service_id",
        "remote_addr",
        "status_code",
        "status_message",
        "records_total",
        "records_accepted",
        "records_rejected",
        "signature_verdict",
        "size",
        "sha256",
        "checksum_verified",
        "message_xml",
    ]
    readonly_fields = ["occurred_astana", "checksum_verified", "message_xml"]

    def get_queryset(self, request: HttpRequest):
        # The list never needs the compressed bytes; the detail view loads them on access.
        return super().get_queryset(request).defer("raw")

    @admin.display(description=_("date and time (Astana)"), ordering="occurred_at")
    def occurred_astana(self, entry: JournalEntry) -> str:
        return format_astana(entry.occurred_at)

    @admin.display(description=_("checksum verifies"), boolean=True)
    def checksum_verified(self, entry: JournalEntry) -> bool | None:
        if not services.content_kept(entry):
            return None  # nothing kept to verify
        return services.verify_checksum(entry)

    @admin.display(description=_("message (passwords masked)"))
    def message_xml(self, entry: JournalEntry) -> str:
        try:
            raw = services.raw_bytes(entry)
        except zlib.error:
            return _("the archived bytes are damaged and cannot be decompressed")
        if not raw and entry.size:
            return _("content not kept: the message was refused before it could be parsed")
        text = mask_passwords(raw).decode("utf-8", errors="replace")
        return format_html(
            '<pre style="white-space: pre-wrap; max-height: 60em; overflow: auto;">{}</pre>', text
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: JournalEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: JournalEntry | None = None) -> bool:
        return False  # retention is enforced by `egsu journal purge`, never by hand (INT-36)
