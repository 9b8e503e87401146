"""WSGI entry point (gunicorn egsu.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egsu.settings")
application = get_wsgi_application()
