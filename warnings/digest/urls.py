"""Mounted at digest/ in qiantang/urls.py."""
from django.urls import path

from . import views

urlpatterns = [
    path("preview/", views.preview, name="digest_preview"),
    path("preferences/", views.preferences, name="digest_preferences"),
]
