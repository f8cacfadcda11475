"""Absolute links (emails, chat messages) from SITE_URL and a URL name."""
from django.conf import settings
from django.urls import reverse


def absolute_url(viewname: str, **kwargs) -> str:
    return settings.SITE_URL + reverse(viewname, kwargs=kwargs or None)
