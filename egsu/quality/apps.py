from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "egsu.quality"
    label = "quality"
    default_auto_field = "django.db.models.BigAutoField"
