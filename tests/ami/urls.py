"""The project's URLs plus the AMI API, as the lead wires it in egsu/urls.py."""

from django.urls import path

from egsu.ami.api import api
from egsu.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("api/ami/", api.urls), *project_urlpatterns]
