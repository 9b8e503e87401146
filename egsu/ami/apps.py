from django.apps import AppConfig


class AmiConfig(AppConfig):
    name = "egsu.ami"
    label = "ami"
    verbose_name = "AMI metering (electricity, heat, gas)"
    default_auto_field = "django.db.models.BigAutoField"
