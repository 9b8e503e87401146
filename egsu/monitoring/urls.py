from django.urls import path

from egsu.monitoring import views
from egsu.points import views as points

app_name = "monitoring"

urlpatterns = [
    path("", views.arrivals, name="arrivals"),
    path("subjects/<str:bin>/", views.subject, name="subject"),
    path("meters/<int:pk>/", points.meter_redirect, name="meter"),  # an old address: the meter's point
]
