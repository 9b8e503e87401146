from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "egsu.access"
    label = "access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin

        from egsu.access import signals  # noqa: F401 - sign-in auditing and lock-out
        from egsu.access.scope import may_administer

        # The admin asks the one permission gate too (egsu/access/scope.py).
        admin.site.has_permission = lambda request: may_administer(request.user)
