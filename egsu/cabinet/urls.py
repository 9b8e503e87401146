from django.urls import path

from egsu.cabinet import views

app_name = "cabinet"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
