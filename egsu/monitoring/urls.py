from django.urls import path

from egsu.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.arrivals, name="arrivals"),
    path("subjects/<str:bin>/", views.subject, name="subject"),
]
