from django.contrib import admin

from egsu.alarms.models import Alarm, AlarmEntry


class EntryInline(admin.TabularInline):
    model = AlarmEntry
    extra = 0
    can_delete = False
    readonly_fields = ("at", "action", "state", "user", "comment")


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    """Read-only: alarms change through their lifecycle (egsu.alarms.services), never by hand here."""

    list_display = ("title", "severity", "state", "subject", "count", "last_seen")
    list_filter = ("state", "severity", "source", "energy")
    search_fields = ("title", "key", "subject__name", "subject__bin")
    inlines = [EntryInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AlarmEntry)
class AlarmEntryAdmin(admin.ModelAdmin):
    """The history is written by the lifecycle only: readable here, never changed."""

    list_display = ("alarm", "action", "state", "user", "at")
    list_filter = ("action",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
