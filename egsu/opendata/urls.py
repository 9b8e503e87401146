from django.urls import path

from egsu.opendata import views

app_name = "opendata"

urlpatterns = [path("", views.index, name="index")]
