from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "egsu.points"
    label = "points"
    verbose_name = _("Metering points")

    def ready(self) -> None:
        from egsu.points import signals

        signals.connect()
