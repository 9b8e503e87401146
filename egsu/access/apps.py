from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "egsu.access"
    label = "access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from egsu.access import signals  # noqa: F401 - sign-in auditing and lock-out
