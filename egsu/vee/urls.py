from django.urls import path

from egsu.vee import views

app_name = "vee"

urlpatterns = [path("", views.finding_list, name="findings")]
