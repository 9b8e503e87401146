from django.urls import path

from egsu.reports import views

app_name = "reports"

urlpatterns = [
    path("new/", views.export_start, name="export"),
    path("<int:pk>/", views.job_detail, name="job"),
    path("<int:pk>/status.json", views.job_status, name="job-status"),
    path("<int:pk>/download/", views.job_download, name="download"),
]
