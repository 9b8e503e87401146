"""Just the admin, so that admin tests do not depend on the rest of the URL map."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
