from django.urls import path

from egsu.reporting import views

app_name = "reporting"

urlpatterns = [
    path("", views.library, name="library"),
    path("<int:pk>/", views.report_detail, name="report"),
    path("<int:pk>/<str:fmt>/", views.report_download, name="download"),
    path("urgent/", views.urgent_start, name="urgent"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("subscriptions/<int:pk>/delete/", views.subscription_delete, name="unsubscribe"),
]
