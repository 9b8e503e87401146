from django.urls import path

from egsu.mail import views

app_name = "mail"

urlpatterns = [
    path("", views.mail_list, name="outbox"),
    path("<int:pk>/retry/", views.mail_retry, name="retry"),
]
