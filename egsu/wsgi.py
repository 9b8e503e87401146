"""WSGI entry point (gunicorn egsu.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egsu.settings")
application = get_wsgi_application()
# What is loaded by now (Django, the apps, their modules) lives as long as the worker: keep it out
# of the collector's full passes, which walked it during every large batch (about 15 % of the CPU
# of an AMI batch, issue 7 profile).
gc.freeze()
