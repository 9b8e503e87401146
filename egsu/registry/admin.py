"""Registry admin: the data operator maintains subjects, facilities, devices and connected systems here."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from egsu.admin_views import ViewOnlyAdmin
from egsu.registry import rules
from egsu.registry.audit import AuditedAdmin
from egsu.registry.models import (
    ConnectedSystem,
    Device,
    DeviceType,
    Facility,
    OperationType,
    Pipeline,
    ProductType,
    Service,
    Subject,
)


@admin.register(Subject)
class SubjectAdmin(AuditedAdmin):
    list_display = ["bin", "name", "short_name", "region", "active", "updated_at"]
    list_filter = ["active", "region"]
    search_fields = ["bin", "name", "short_name"]
    readonly_fields = ["created_at", "updated_at"]


class DeviceForm(forms.ModelForm):
    """Checks the allowed operations against the facility's kind before the M2M is saved (FMT-07)."""

    class Meta:
        model = Device
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        operations = cleaned.get("allowed_operations")
        facility = cleaned.get("facility") or self.instance.facility_or_none()
        if operations is not None and facility is not None:
            problem = rules.operations_problem(facility.kind, [op.pk for op in operations])
            if problem:
                self.add_error("allowed_operations", problem)
        return cleaned


class DeviceInline(admin.TabularInline):
    model = Device
    form = DeviceForm
    extra = 0
    fields = ["device_id", "device_type", "product_type", "pipeline", "commercial", "serial_number", "active"]
    show_change_link = True


@admin.register(Facility)
class FacilityAdmin(AuditedAdmin):
    list_display = ["object_id", "name", "kind", "subject", "region", "active"]
    list_filter = ["kind", "active", "region"]
    search_fields = ["object_id", "name", "subject__bin", "subject__name"]
    list_select_related = ["subject"]
    autocomplete_fields = ["subject"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [DeviceInline]


@admin.register(Device)
class DeviceAdmin(AuditedAdmin):
    form = DeviceForm
    list_display = [
        "__str__",
        "facility",
        "device_id",
        "device_type",
        "product_type",
        "pipeline",
        "commercial",
        "serial_number",
        "active",
    ]
    list_filter = ["facility__kind", "device_type", "commercial", "active", "product_type", "pipeline"]
    search_fields = ["device_id", "facility__object_id", "facility__name", "serial_number", "model_name"]
    list_select_related = ["facility", "device_type", "product_type", "pipeline"]
    autocomplete_fields = ["facility"]
    filter_horizontal = ["allowed_operations"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(DeviceType)
class DeviceTypeAdmin(ViewOnlyAdmin):  # fixed App.2 dictionaries, loaded from egsu_core.isun.tables
    list_display = ["id", "name_en", "name_kk"]
    search_fields = ["name_en", "name_kk"]


@admin.register(OperationType)
class OperationTypeAdmin(ViewOnlyAdmin):
    list_display = ["id", "name_en", "name_kk", "kinds"]
    list_filter = ["kinds"]
    search_fields = ["name_en", "name_kk"]


@admin.register(ProductType)
class ProductTypeAdmin(AuditedAdmin):
    list_display = ["id", "name", "active"]
    list_filter = ["active"]
    search_fields = ["id", "name"]


@admin.register(Pipeline)
class PipelineAdmin(AuditedAdmin):
    list_display = ["id", "name", "active"]
    list_filter = ["active"]
    search_fields = ["id", "name"]


@admin.register(Service)
class ServiceAdmin(AuditedAdmin):
    list_display = ["service_id", "name", "active"]
    list_filter = ["active"]
    search_fields = ["service_id", "name"]


class ConnectedSystemForm(forms.ModelForm):
    """A write-only "new password" field: the stored hash is never shown and the clear text never kept."""

    new_password = forms.CharField(
        label=_("new password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password."),
    )

    class Meta:
        model = ConnectedSystem
        fields = [
            "sender_id",
            "new_password",
            "subject",
            "services",
            "contour",
            "active",
            "require_transport_signature",
            "require_business_signature",
            "allowed_policy_oids",
            "allowed_eku_oids",
        ]

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("new_password"):
            self.add_error("new_password", _("A new connected system needs a password."))
        return cleaned

    def save(self, commit: bool = True):
        system = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            system.set_password(self.cleaned_data["new_password"])
            system._password_changed = True
        if commit:
            system.save()
            self.save_m2m()
        return system


@admin.register(ConnectedSystem)
class ConnectedSystemAdmin(AuditedAdmin):
    form = ConnectedSystemForm
    list_display = ["sender_id", "subject", "contour", "active", "require_business_signature", "service_list"]
    list_filter = ["contour", "active", "require_business_signature", "services"]
    search_fields = ["sender_id", "subject__bin", "subject__name"]
    list_select_related = ["subject"]
    autocomplete_fields = ["subject"]
    filter_horizontal = ["services"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("services")

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        if change and getattr(form.instance, "_password_changed", False):
            from egsu.access.audit import Event, audit

            audit(
                Event.SYSTEM_PASSWORD_CHANGED,
                obj=form.instance,
                request=request,
                source="admin",
                summary=f"password of connected system {form.instance} changed",
            )

    @admin.display(description=_("services"))
    def service_list(self, obj: ConnectedSystem) -> str:
        return ", ".join(service.service_id for service in obj.services.all())
