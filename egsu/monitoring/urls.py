from django.urls import path

from egsu.cabinet import views_devices
from egsu.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.arrivals, name="arrivals"),
    path("subjects/<str:bin>/", views.subject, name="subject"),
    # The AMI meter page lives with the device views; routed here because egsu/cabinet/urls.py
    # belongs to another engineer (the lead may move it to cabinet:meter).
    path("meters/<int:pk>/", views_devices.meter_detail, name="meter"),
]
