from django.contrib import admin

from egsu.connections import models


@admin.register(models.ConnectionApplication)
class ConnectionApplicationAdmin(admin.ModelAdmin):
    list_display = ("subject", "status", "filed_at", "system", "live_on")
    readonly_fields = ("subject", "status", "fields", "certificate_sha256", "filed_by", "filed_at", "system",
                       "test_from", "act_sha256")  # fmt: skip


@admin.register(models.ConnectionStep)
class ConnectionStepAdmin(admin.ModelAdmin):
    list_display = ("application", "action", "actor", "at", "signer", "verdict")
    readonly_fields = [f.name for f in models.ConnectionStep._meta.fields]
