from django.urls import path

from egsu.alarms import views

app_name = "alarms"

urlpatterns = [
    path("", views.alarm_list, name="list"),
    path("export/", views.alarm_export, name="export"),
    path("<int:pk>/", views.alarm_detail, name="detail"),
    path("<int:pk>/acknowledge/", views.alarm_acknowledge, name="acknowledge"),
    path("<int:pk>/close/", views.alarm_close, name="close"),
    path("<int:pk>/failure/", views.alarm_failure, name="failure"),
    path("notifications/", views.subscription, name="subscription"),
    path("notices/", views.notices, name="notices"),
    path("notices/<int:pk>/withdraw/", views.notice_withdraw, name="notice-withdraw"),
]
