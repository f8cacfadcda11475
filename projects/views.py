"""Staff pages. Until the dashboard exists, `/` is the coloured project list."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import project_board


@login_required
def home(request):
    return render(request, "projects/home.html", project_board(show=request.GET.get("show")))
