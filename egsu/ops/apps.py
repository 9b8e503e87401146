from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: health, readiness, metrics, backup and restore, retention (issue 17)."""

    name = "egsu.ops"
    label = "ops"
    default_auto_field = "django.db.models.BigAutoField"
