"""Failed-login throttling: a few wrong passwords lock a username (and, more
loosely, an address) for a while. Counted in the database, so every web process
sees the same count; settings LOGIN_FAILURE_LIMIT and LOGIN_FAILURE_WINDOW.

Every way of proving a password goes through `attempt()`: the site login, the
admin login and the old password of a password change, so one lock holds at all
of them.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from .models import LoginFailure

# One address may try several usernames (a shared office NAT), but not endlessly.
ADDRESS_FACTOR = 4


class Locked(Exception):
    """Too many recent failures for this username or address: not even checked."""


def _window_start(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)


def _key(username: str) -> str:
    return (username or "").strip().lower()[:150]


def lock_minutes() -> int:
    """How long a lock lasts, as the message tells it."""
    return max(1, settings.LOGIN_FAILURE_WINDOW // 60)


def is_locked(username: str, ip_address: str | None, *, now: datetime) -> bool:
    recent = LoginFailure.objects.filter(at__gt=_window_start(now))
    limit = settings.LOGIN_FAILURE_LIMIT
    if recent.filter(username=_key(username)).count() >= limit:
        return True
    return bool(ip_address) and recent.filter(ip_address=ip_address).count() >= limit * ADDRESS_FACTOR


def record_failure(username: str, ip_address: str | None, *, now: datetime) -> None:
    LoginFailure.objects.create(username=_key(username), ip_address=ip_address or None, at=now)


def forget_old_failures(*, now: datetime) -> None:
    """Rows older than the window count for nothing; dropping them keeps the table small."""
    LoginFailure.objects.filter(at__lte=_window_start(now)).delete()


def clear_failures(username: str) -> None:
    """After a right password the username starts afresh (the address count stays)."""
    LoginFailure.objects.filter(username=_key(username)).delete()


def _serialise_attempts_for(username: str) -> None:
    # Without this, parallel guesses would all read the count before any of them
    # is recorded, and all be checked. Locking the user rows (every case variant,
    # in primary-key order so two attempts cannot deadlock) makes attempts for one
    # account queue. SQLite has no row locks, but settings open its transactions
    # IMMEDIATE, which takes the database's write lock and queues them all.
    # A username with no account has no row to lock; guessing it gains nothing.
    User = get_user_model()
    lookup = {f"{User.USERNAME_FIELD}__iexact": _key(username)}
    list(User.objects.select_for_update().filter(**lookup).order_by("pk").values_list("pk", flat=True))


# PostgreSQL advisory lock namespace of the per-address queue (the second key is the address's hash).
ADDRESS_LOCK_NAMESPACE = 0x51A7_0002


def _serialise_attempts_from(ip_address: str | None) -> None:
    # The address's count (guesses spread over many usernames) is read and recorded under a
    # lock too, taken after the username's (always in that order: no deadlock), so parallel
    # guesses from one address cannot all slip past it either. On SQLite the IMMEDIATE
    # transaction already queues every attempt.
    if ip_address and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [ADDRESS_LOCK_NAMESPACE, ip_address])


def attempt(username: str, ip_address: str | None, *, now: datetime, check: Callable[[], bool]) -> bool:
    """One throttled password check: raises Locked when the username (or address)
    has too many recent failures; otherwise runs `check()` (True when the password
    is right), records a wrong one or clears the count after a right one, and
    returns what `check()` said. The count, the check and the record happen under
    one lock, so the limit holds however many attempts arrive at once."""
    with transaction.atomic():
        _serialise_attempts_for(username)
        _serialise_attempts_from(ip_address)
        if is_locked(username, ip_address, now=now):
            raise Locked
        right = bool(check())
        if right:
            clear_failures(username)
        else:
            record_failure(username, ip_address, now=now)
    if not right:
        # Outside the lock: the old rows are shared by every username, and deleting
        # them inside would make unrelated sign-ins wait for this one.
        forget_old_failures(now=now)
    return right
