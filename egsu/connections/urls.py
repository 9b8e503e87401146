"""Mounted at /cabinet/connections/ (namespace `connections`)."""

from django.urls import path

from egsu.connections import views

app_name = "connections"

urlpatterns = [
    path("", views.application_list, name="list"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.application, name="application"),
    path("<int:pk>/step/<str:action>/", views.step, name="step"),
    path("<int:pk>/act.pdf", views.act_pdf, name="act-pdf"),
]
