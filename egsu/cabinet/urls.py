from django.urls import path

from egsu.cabinet import views, views_consumption, views_readings, views_totals
from egsu.points import views as points

app_name = "cabinet"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("points/", points.point_list, name="points"),
    path("points/<int:pk>/", points.point_detail, name="point"),
    path("devices/", points.devices_redirect, name="devices"),
    path("devices/<int:pk>/", points.device_redirect, name="device"),
    path("meters/<int:pk>/", points.meter_redirect, name="meter"),
    path("readings/", views_readings.reading_list, name="readings"),
    path("totals/", views_totals.totals, name="totals"),
    path("consumption/", views_consumption.consumption, name="consumption"),
]
