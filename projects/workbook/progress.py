"""How far a running workbook import is, for the page that waits on it (a large workbook takes
a minute): kept in the cache, which every web process shares (Redis in production, files in
`make run`), under the staged upload's token that only the importing session knows."""
from __future__ import annotations

from collections.abc import Callable

from django.core.cache import cache
from django.utils.translation import gettext as _

CHECKING, WRITING = "check", "write"
KEPT_SECONDS = 3600  # longer than any import; forgotten when it ends


def _key(token: str) -> str:
    return f"workbook-import-progress:{token}"


def progress_reporter(token: str) -> Callable[[str, int, int], None]:
    """A callback for importer.import_workbook: (phase, rows done, rows in all)."""

    def report(phase: str, done: int, total: int) -> None:
        cache.set(_key(token), {"phase": phase, "done": done, "total": total}, KEPT_SECONDS)

    return report


def progress_text(token: str) -> str | None:
    """"已写入 400 / 1,500 行" and the like, or None while nothing was reported."""
    state = cache.get(_key(token))
    if not state:
        return None
    numbers = {"done": f"{state['done']:,}", "total": f"{state['total']:,}"}
    if state["phase"] == WRITING:
        return _("已写入 %(done)s / %(total)s 行") % numbers
    return _("已检查 %(done)s / %(total)s 行") % numbers


def progress_forget(token: str) -> None:
    cache.delete(_key(token))
