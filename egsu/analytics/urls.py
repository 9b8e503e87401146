from django.urls import path

from egsu.analytics import views

app_name = "analytics"

urlpatterns = [
    path("forecasts/", views.forecasts, name="forecasts"),
    path("correlation/", views.correlation, name="correlation"),
    path("recommendations/", views.recommendations, name="recommendations"),
    path("recommendations/<int:pk>/decide/", views.decide, name="decide"),
]
