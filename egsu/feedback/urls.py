from django.urls import path

from egsu.feedback import views

app_name = "feedback"

urlpatterns = [
    path("", views.register, name="register"),
    path("send/", views.send, name="send"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/snapshot/", views.snapshot, name="snapshot"),
]
