"""What the navigation shows besides the links everyone has: the workbook import (the office)
and the re-plan queue with its pending count (the office, leaders).

Which of the two a user sees is decided from permissions at sign-in and kept in the session
(`remember_navigation`, connected to `user_logged_in` in apps.py), so the navigation of every
page costs no query; a session from before a key existed gets it on first use. The pages
themselves check permissions on every request: the flags only decide what is shown.
"""
from __future__ import annotations

from . import permissions
from .replans import pending_count

MAY_IMPORT_WORKBOOK = "may_import_workbook"
MAY_READ_REPLAN_QUEUE = "may_read_replan_queue"

_FLAGS = {
    MAY_IMPORT_WORKBOOK: permissions.can_import_workbook,
    MAY_READ_REPLAN_QUEUE: permissions.can_read_replan_queue,
}


def remember_navigation(sender, request, user, **kwargs) -> None:
    """The `user_logged_in` receiver: note the navigation's flags in the new session."""
    if request is not None and hasattr(request, "session"):
        for key, check in _FLAGS.items():
            request.session[key] = check(user)


def _flag(request, key: str) -> bool:
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    if session is None or not getattr(user, "is_authenticated", False):
        return False
    if key not in session:  # a session from before the key existed
        session[key] = _FLAGS[key](user)
    return bool(session[key])


def shows_workbook_import(request) -> bool:
    return _flag(request, MAY_IMPORT_WORKBOOK)


def replan_nav_count(request) -> int | None:
    """The pending count for the navigation, or None when the user does not see the link."""
    return pending_count() if _flag(request, MAY_READ_REPLAN_QUEUE) else None
