"""AMI admin: the data operator keeps metering objects, meters, channels and head-ends here."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from egsu.ami import services
from egsu.ami.models import AmiBatch, Channel, HeadEndSystem, Meter, MeterEvent, MeteringObject, MeterState
from egsu.registry.audit import AuditedAdmin


@admin.register(MeteringObject)
class MeteringObjectAdmin(AuditedAdmin):
    list_display = ["code", "name", "kind", "region", "parent", "active"]
    list_filter = ["kind", "active", "region"]
    search_fields = ["code", "name", "address"]
    raw_id_fields = ["parent", "subject"]


class ChannelInline(admin.TabularInline):
    model = Channel
    extra = 0


@admin.register(Meter)
class MeterAdmin(AuditedAdmin):
    # AMI-03: search by name, serial number, personal account, address and counterparty.
    list_display = [
        "serial_number",
        "meter_type",
        "model",
        "energy",
        "account",
        "verification_due",
        "commercial",
        "active",
    ]
    list_filter = ["energy", "meter_type", "commercial", "active", "gas_band"]
    search_fields = ["serial_number", "account", "address", "counterparty", "model"]
    raw_id_fields = ["subject", "metering_object"]
    date_hierarchy = "verification_due"
    inlines = [ChannelInline]
    show_full_result_count = False  # millions of rows: no COUNT(*) per page


@admin.register(Channel)
class ChannelAdmin(AuditedAdmin):
    list_display = ["meter", "code", "unit", "obis", "interval"]
    list_filter = ["code", "interval"]
    search_fields = ["meter__serial_number", "obis"]
    raw_id_fields = ["meter"]
    show_full_result_count = False


@admin.register(HeadEndSystem)
class HeadEndSystemAdmin(AuditedAdmin):
    list_display = ["name", "subject", "mqtt_username", "token_prefix", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "mqtt_username"]
    readonly_fields = ["token_prefix", "created_at"]
    actions = ["rotate_tokens"]

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.mqtt_username = obj.mqtt_username or obj.name
            obj.token_hash = "pending"
            super().save_model(request, obj, form, change)
            token = services.rotate_token(obj, request=request, source="admin")
            self.message_user(
                request, _("Bearer token (shown once): %(token)s") % {"token": token}, messages.WARNING
            )
            return
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Issue new bearer tokens (shown once)"))
    def rotate_tokens(self, request, queryset) -> None:
        for head_end in queryset:
            token = services.rotate_token(head_end, request=request, source="admin")
            self.message_user(request, f"{head_end.name}: {token}", messages.WARNING)


class ReadOnlyRecordAdmin(admin.ModelAdmin):
    """What head-ends reported is evidence: viewable, never edited by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MeterEvent)
class MeterEventAdmin(ReadOnlyRecordAdmin):
    list_display = ["meter", "code", "occurred_at", "phase", "alarm", "batch_id"]
    list_filter = ["alarm", "code"]
    search_fields = ["meter__serial_number", "batch_id"]
    show_full_result_count = False


@admin.register(MeterState)
class MeterStateAdmin(ReadOnlyRecordAdmin):
    list_display = ["meter", "reported_at", "relay", "online", "battery_low", "valve", "clock_offset_s"]
    list_filter = ["relay", "online", "battery_low"]
    search_fields = ["meter__serial_number"]
    show_full_result_count = False


@admin.register(AmiBatch)
class AmiBatchAdmin(ReadOnlyRecordAdmin):
    list_display = ["batch_id", "head_end", "transport", "received", "stored", "refused", "received_at"]
    list_filter = ["transport", "head_end"]
    search_fields = ["batch_id"]
    show_full_result_count = False
