from django.apps import AppConfig


class AlarmsConfig(AppConfig):
    name = "egsu.alarms"
    label = "alarms"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from egsu.alarms import receivers  # noqa: F401 - connects the follow-up of alarm changes
