from django.urls import path

from egsu.jobs import views

app_name = "jobs"

urlpatterns = [
    path("", views.job_list, name="jobs"),
    path("<int:pk>/retry/", views.job_retry, name="retry"),
]
