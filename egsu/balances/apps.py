from django.apps import AppConfig


class BalancesConfig(AppConfig):
    name = "egsu.balances"
    verbose_name = "Balances"
