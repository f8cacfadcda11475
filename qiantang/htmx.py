"""HTMX-aware helpers shared by the apps' views."""
from functools import wraps

from django.contrib.auth.decorators import login_required as django_login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.template.loader import render_to_string
from django_htmx.http import HttpResponseClientRedirect


def login_required(view):
    """Django's login_required, except that an HTMX request whose session has expired
    sends the whole page to the login form (and back to this page afterwards), rather
    than swapping the login form into a table row or a status line."""
    wrapped = django_login_required(view)

    @wraps(view)
    def check(request, *args, **kwargs):
        if request.htmx and not request.user.is_authenticated:
            back = request.htmx.current_url_abs_path or request.get_full_path()
            return HttpResponseClientRedirect(redirect_to_login(back)["Location"])
        return wrapped(request, *args, **kwargs)

    return check


def _render_parts(request, template: str, parts) -> str:
    # A part names a partial of `template`, or of another template as "other.html#name".
    return "".join(
        render_to_string(name if "#" in name else f"{template}#{name}", context, request=request)
        for name, context in parts
    )


def render_partials(request, template: str, *parts: tuple[str, dict], status: int = 200) -> HttpResponse:
    """One HTMX response of several named partials of one page's template, in order:
    the first is swapped into the target, the others carry hx-swap-oob themselves
    (their `-oob` partials, rendered with "oob": True in their context). The one way every
    HTMX view answers with more than one fragment."""
    return HttpResponse(_render_parts(request, template, parts), status=status)


def append_partials(response: HttpResponse, request, template: str, *parts: tuple[str, dict]) -> HttpResponse:
    """`response` (a fragment already rendered) followed by out-of-band partials, as
    `render_partials` renders them."""
    response.content += _render_parts(request, template, parts).encode()
    return response
