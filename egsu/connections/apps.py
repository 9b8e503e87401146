from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectionsConfig(AppConfig):
    name = "egsu.connections"
    verbose_name = _("Gateway connections")
    default_auto_field = "django.db.models.BigAutoField"
