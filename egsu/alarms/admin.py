from django.contrib import admin

from egsu.admin_views import ViewOnlyAdmin, ViewOrDeleteAdmin
from egsu.alarms.models import Alarm, AlarmEntry, Notice, Subscription, SystemWindow


class EntryInline(admin.TabularInline):
    model = AlarmEntry
    extra = 0
    can_delete = False
    readonly_fields = ("at", "action", "state", "user", "comment")


@admin.register(Alarm)
class AlarmAdmin(ViewOrDeleteAdmin):
    """Read-only: alarms change through their lifecycle (egsu.alarms.services), never by hand here."""

    list_display = ("title", "severity", "state", "subject", "count", "last_seen")
    list_filter = ("state", "severity", "source", "energy")
    search_fields = ("title", "key", "subject__name", "subject__bin")
    inlines = [EntryInline]


@admin.register(AlarmEntry)
class AlarmEntryAdmin(ViewOnlyAdmin):
    """The history is written by the lifecycle only: readable here, never changed."""

    list_display = ("alarm", "action", "state", "user", "at")
    list_filter = ("action",)


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """The operator's register of subjects' notices (the cabinet's page is the usual way in)."""

    list_display = ("subject", "kind", "starts_at", "ends_at", "via", "created_at", "withdrawn_at")
    list_filter = ("kind",)
    search_fields = ("subject__name", "subject__bin", "text")
    raw_id_fields = ("points",)


@admin.register(SystemWindow)
class SystemWindowAdmin(admin.ModelAdmin):
    """The System's own maintenance windows (INT-43..45): saving a new one announces it by e-mail to every
    connected subject (a background job) and shows it on the overview until it is over."""

    list_display = ("starts_at", "ends_at", "text", "announced_at")
    readonly_fields = ("created_at", "announced_at")

    def save_model(self, request, obj, form, change):
        from django.db import transaction

        from egsu.alarms.tasks import announce_window
        from egsu_core.clock import utcnow

        if not change:
            obj.created_at = utcnow()
        super().save_model(request, obj, form, change)
        if obj.announced_at is None:
            transaction.on_commit(lambda: announce_window.enqueue(obj.pk))


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("user", "severity", "delivery", "active", "digest_sent_for")
    list_filter = ("delivery", "severity", "active")
