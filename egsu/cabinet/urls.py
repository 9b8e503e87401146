from django.urls import path

from egsu.cabinet import views, views_devices, views_readings, views_totals

app_name = "cabinet"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("devices/", views_devices.device_list, name="devices"),
    path("devices/<int:pk>/", views_devices.device_detail, name="device"),
    path("readings/", views_readings.reading_list, name="readings"),
    path("totals/", views_totals.totals, name="totals"),
]
