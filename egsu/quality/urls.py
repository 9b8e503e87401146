"""Mounted at /cabinet/corrections/ (namespace `quality`)."""

from django.urls import path

from egsu.quality import views

app_name = "quality"

urlpatterns = [
    path("", views.correction_list, name="corrections"),
    path("propose/", views.propose, name="propose"),
    path("<int:pk>/", views.act_detail, name="act"),
    path("<int:pk>/agree/", views.agree, name="agree"),
    path("<int:pk>/refuse/", views.refuse, name="refuse"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/act.pdf", views.act_pdf, name="act-pdf"),
]
