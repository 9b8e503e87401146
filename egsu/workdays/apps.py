from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkdaysConfig(AppConfig):
    name = "egsu.workdays"
    verbose_name = _("Working-day calendar")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from egsu import calendar_kz
        from egsu.workdays import services

        calendar_kz.set_transfer_source(services.operator_transfers)
        services.connect_signals()
