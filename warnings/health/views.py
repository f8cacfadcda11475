"""GET /healthz: 200 while the site can serve (database and broker reachable; a stale board is
reported as "degraded"), 503 otherwise. No sign-in, nothing cached, no secrets."""
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from qiantang.clock import local_today

from .checks import health


@never_cache
@require_GET
def healthz(request):
    result = health(today=local_today())
    return JsonResponse(result.as_dict(), status=200 if result.serving else 503)
