from django.apps import AppConfig


class VeeConfig(AppConfig):
    name = "egsu.vee"
    verbose_name = "Data quality (VEE)"
