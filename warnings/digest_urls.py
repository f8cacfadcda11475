"""Mounted at digest/ in qiantang/urls.py."""
from django.urls import path

from . import digest_views

urlpatterns = [
    path("preview/", digest_views.preview, name="digest_preview"),
    path("preferences/", digest_views.preferences, name="digest_preferences"),
]
