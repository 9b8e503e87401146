from django.urls import path

from egsu.access.views import audit, password, users

app_name = "access"

urlpatterns = [
    path("users/", users.user_list, name="users"),
    path("users/add/", users.user_add, name="user-add"),
    path("users/<int:pk>/", users.user_edit, name="user-edit"),
    path("users/<int:pk>/status/", users.user_deactivate, name="user-deactivate"),
    path("audit/", audit.audit_list, name="audit"),
    path("audit/export.csv", audit.audit_export, name="audit-export"),
    path("password/", password.password_change, name="password"),
]
