"""Failed-login throttling: a few wrong passwords lock a username (and, more
loosely, an address) for a while. Counted in the database, so every web process
sees the same count; settings LOGIN_FAILURE_LIMIT and LOGIN_FAILURE_WINDOW.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from .models import LoginFailure

# One address may try several usernames (a shared office NAT), but not endlessly.
ADDRESS_FACTOR = 4


def _window_start(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)


def _key(username: str) -> str:
    return (username or "").strip().lower()[:150]


def is_locked(username: str, ip_address: str | None, *, now: datetime) -> bool:
    recent = LoginFailure.objects.filter(at__gt=_window_start(now))
    limit = settings.LOGIN_FAILURE_LIMIT
    if recent.filter(username=_key(username)).count() >= limit:
        return True
    return bool(ip_address) and recent.filter(ip_address=ip_address).count() >= limit * ADDRESS_FACTOR


def record_failure(username: str, ip_address: str | None, *, now: datetime) -> None:
    # Old rows are of no further use; dropping them here keeps the table small.
    LoginFailure.objects.filter(at__lte=_window_start(now)).delete()
    LoginFailure.objects.create(username=_key(username), ip_address=ip_address or None, at=now)


def clear_failures(username: str) -> None:
    """After a successful sign-in the username starts afresh (the address count stays)."""
    LoginFailure.objects.filter(username=_key(username)).delete()
