from django.contrib import admin

from egsu.access.models import AuditEvent, LoginThrottle, Profile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "organisation", "language", "updated_at")
    list_filter = ("role", "language")
    search_fields = ("user__username", "user__email", "organisation")
    filter_horizontal = ("subjects",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "occurred_at",
        "event",
        "actor_name",
        "object_type",
        "object_id",
        "summary",
        "remote_addr",
    )
    list_filter = ("event", "object_type")
    search_fields = ("actor_name", "object_id", "summary", "source")
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LoginThrottle)
class LoginThrottleAdmin(admin.ModelAdmin):
    list_display = ("username", "failures", "locked_until", "last_failure_at")
    search_fields = ("username",)
