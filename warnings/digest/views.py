"""Digest pages: a signed-in user's own digest in the browser and their digest preferences.

Both act only on request.user: there is no user id in any URL or form, so nobody can
read or change another person's digest or preferences.
"""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from qiantang.clock import local_today
from qiantang.htmx import login_required
from qiantang.links import absolute_url

from ..models import DigestPreference
from .forms import DigestPreferenceForm
from .recipients import digest_for_user
from .weeks import week_label


@login_required
@require_http_methods(["GET"])
def preview(request):
    today = local_today()
    digest = digest_for_user(request.user, week=week_label(today), today=today)
    return render(
        request,
        "warnings/digest/preview.html",
        {
            "digest": digest,
            "preferences_url": absolute_url("digest_preferences"),
            "preview_url": absolute_url("digest_preview"),
            "has_email": bool(request.user.email),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    preference = DigestPreference.objects.filter(user=request.user).first() or DigestPreference(user=request.user)
    if request.method == "POST":
        form = DigestPreferenceForm(request.POST, instance=preference)
        if form.is_valid():
            form.instance.user = request.user  # never anyone else's, whatever was posted
            form.save()
            messages.success(request, _("周报设置已保存。"))
            return redirect("digest_preferences")
    else:
        form = DigestPreferenceForm(instance=preference)
    return render(
        request,
        "warnings/digest/preferences.html",
        {"form": form, "has_email": bool(request.user.email)},
    )
