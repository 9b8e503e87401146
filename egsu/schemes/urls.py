"""Mounted at /cabinet/schemes/ (namespace `schemes`)."""

from django.urls import path

from egsu.schemes import views, views_registers

app_name = "schemes"

urlpatterns = [
    path("", views.scheme_list, name="list"),
    path("new/", views.create, name="create"),
    path("v/<int:pk>/", views.version_detail, name="version"),
    path("v/<int:pk>/save/", views.save, name="save"),
    path("v/<int:pk>/step/<str:action>/", views.step, name="step"),
    path("v/<int:pk>/new-version/", views.new_version, name="new-version"),
    path("v/<int:pk>/decision.pdf", views.decision_pdf, name="decision-pdf"),
    path("v/<int:pk>/drawing.pdf", views.drawing, name="drawing"),
    path("step/<int:pk>/signature.xml", views.step_signature, name="step-signature"),
    path("point/<int:pk>/", views_registers.point_metrology, name="point-metrology"),
    path("document/<int:pk>/", views_registers.document_file, name="document"),
    path("obligations/", views_registers.obligations, name="obligations"),
]
