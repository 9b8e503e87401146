from django.contrib import admin

from egsu.vee.models import Finding, QualityDay, RuleSetting, Run


@admin.register(RuleSetting)
class RuleSettingAdmin(admin.ModelAdmin):
    list_display = ("code", "quantity", "device_type", "point", "enabled", "alarm_severity", "params")
    list_filter = ("code", "enabled", "alarm_severity")
    raw_id_fields = ("point",)


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = (
        "rule",
        "object_id",
        "device_id",
        "quantity",
        "interval",
        "first_slot",
        "values",
        "severity",
    )
    list_filter = ("rule", "severity", "energy")
    raw_id_fields = ("point", "subject")


@admin.register(QualityDay)
class QualityDayAdmin(admin.ModelAdmin):
    list_display = ("subject", "day", "checked", "flagged", "findings", "score")
    raw_id_fields = ("subject",)


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "window_start", "window_end", "values", "findings", "estimated", "seconds")
