from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class SignaturesConfig(AppConfig):
    name = "egsu.signatures"
    label = "signatures"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Production refuses to start without a working signing key (App.1 §51: every answer is signed)."""
        from django.conf import settings

        if not settings.CONFIG.production:
            return
        from egsu.signatures import services

        contours = [services.PRODUCTION]
        if settings.CONFIG.test_signing_key:
            contours.append(services.TEST)
        for contour in contours:
            try:
                services.check_signing_identity(contour)
            except Exception as exc:  # noqa: BLE001 - any failure stops the start, with its reason
                raise ImproperlyConfigured(
                    f"EGSU_ENV=production and the System's {contour} signing key does not work "
                    f"({type(exc).__name__}: {exc}); every answer must be signed (App.1 §51)"
                ) from exc
