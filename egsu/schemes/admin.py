from django.contrib import admin

from egsu.schemes import models


@admin.register(models.Scheme)
class SchemeAdmin(admin.ModelAdmin):
    list_display = ("facility", "subject", "created_at")
    readonly_fields = ("facility", "subject")


@admin.register(models.SchemeVersion)
class SchemeVersionAdmin(admin.ModelAdmin):
    list_display = ("scheme", "number", "status", "received_on", "deadline", "decided_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in models.SchemeVersion._meta.fields if f.editable]

    def has_add_permission(self, request):
        return False


@admin.register(models.Metrology)
class MetrologyAdmin(admin.ModelAdmin):
    list_display = ("point", "type_register_no", "type_approved_until", "method_ref", "stated_error")
    raw_id_fields = ("point",)


@admin.register(models.Verification)
class VerificationAdmin(admin.ModelAdmin):
    list_display = ("point", "verified_on", "valid_until", "certificate_no")
    raw_id_fields = ("point", "document")


@admin.register(models.Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("point", "kind", "name", "version", "sha256", "uploaded_by", "uploaded_at")
    readonly_fields = [f.name for f in models.Document._meta.fields]


@admin.register(models.ReplacementPeriod)
class ReplacementPeriodAdmin(admin.ModelAdmin):
    list_display = ("energy", "days")


@admin.register(models.Failure)
class FailureAdmin(admin.ModelAdmin):
    list_display = ("point", "failed_on", "due_on", "replacement", "replaced_on")
    raw_id_fields = ("point", "replacement")


@admin.register(models.ObligatedObject)
class ObligatedObjectAdmin(admin.ModelAdmin):
    list_display = ("subject", "object_code", "name", "deadline", "equipped_on")


@admin.register(models.SchemeStep)
class SchemeStepAdmin(admin.ModelAdmin):
    """Signed steps are evidence: read only."""

    list_display = ("version", "action", "actor", "at", "signer", "algorithm", "verdict")
    readonly_fields = [f.name for f in models.SchemeStep._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
