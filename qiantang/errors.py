"""The site's error answers, in the reader's language and without a 500 where we can help it.

The embedded SQLite database of `make run` admits one writer at a time: a save that waits
longer than the busy timeout (an import or a recompute holding the lock) fails with
"database is locked". Nothing was written (its transaction rolled back), so the answer is a
503 that says so and asks to try again, not a 500: `BusyDatabaseMiddleware` for errors in
views (DEBUG too), `server_error` (handler500) for the rest. Both pages are standalone
templates that read no database: the database may be what failed.

Any other database error that a retry may cure (PostgreSQL restarting or unreachable, a
connection dropped mid-request, a deadlock) is a 503 too, saying the database cannot be
reached for the moment: the request's work is not known to be saved, and the next request
opens a fresh connection (CONN_HEALTH_CHECKS).
"""
import sys

from django.db import OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

RETRY_AFTER_SECONDS = 5


def is_database_busy(error: BaseException | None) -> bool:
    return isinstance(error, OperationalError) and "locked" in str(error).lower()


def database_failure_message(error: BaseException | None) -> str | None:
    """What to tell the reader when the database failed their request, or None when the
    error is not the database's (a bug: the plain 500 page)."""
    if not isinstance(error, OperationalError):
        return None
    if is_database_busy(error):
        return _("系统正忙（正在重算预警或导入数据），您的操作未保存，请稍后重试。")
    return _("数据库暂时无法访问（可能正在重启或维护），请稍后重试。")


def busy_response(request, message: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    else:
        response = HttpResponse(render_to_string("busy.html", {"message": message}, request=None), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class BusyDatabaseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        message = database_failure_message(exception)
        return busy_response(request, message) if message else None


def server_error(request):
    """handler500: the 503 page for a database that failed the request, else the plain 500 page."""
    message = database_failure_message(sys.exc_info()[1])
    if message:
        return busy_response(request, message)
    return HttpResponse(render_to_string("500.html", request=None), status=500)
