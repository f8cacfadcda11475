"""WSGI entry point (gunicorn qiantang.wsgi)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantang.settings")

application = get_wsgi_application()
