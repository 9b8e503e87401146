from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchemesConfig(AppConfig):
    name = "egsu.schemes"
    verbose_name = _("Metering schemes and metrology")
    default_auto_field = "django.db.models.BigAutoField"
