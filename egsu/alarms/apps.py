from django.apps import AppConfig


class AlarmsConfig(AppConfig):
    name = "egsu.alarms"
    label = "alarms"
    default_auto_field = "django.db.models.BigAutoField"
