from django.urls import path

from egsu.balances import views

app_name = "balances"

urlpatterns = [path("", views.balance_page, name="balances")]
