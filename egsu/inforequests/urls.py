from django.urls import path

from egsu.inforequests import views

app_name = "inforequests"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.request_new, name="new"),
    path("<int:pk>/", views.request_detail, name="detail"),
    path("<int:pk>/package.<str:fmt>", views.package_download, name="download"),
]
