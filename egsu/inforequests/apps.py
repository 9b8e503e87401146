from django.apps import AppConfig


class InforequestsConfig(AppConfig):
    name = "egsu.inforequests"
    label = "inforequests"
    default_auto_field = "django.db.models.BigAutoField"
