"""Reads for the staff pages."""
from django.db.models import Case, Count, IntegerField, Q, Sum, Value, When

from .models import Colour, Project

COLOUR_RANK = Case(
    When(colour=Colour.RED, then=Value(0)),
    When(colour=Colour.YELLOW, then=Value(1)),
    When(colour=Colour.GREEN, then=Value(2)),
    default=Value(3),  # uncoloured: paused, completed, terminated
    output_field=IntegerField(),
)


def project_board() -> dict:
    """Every project with its stored colour, worst first, and the counts per colour."""
    projects = (
        Project.objects.select_related("lead_department", "responsible_cadre")
        .annotate(colour_rank=COLOUR_RANK)
        .order_by("colour_rank", "code")
    )
    counts = Project.objects.filter(state=Project.State.ACTIVE).aggregate(
        red=Count("id", filter=Q(colour=Colour.RED)),
        yellow=Count("id", filter=Q(colour=Colour.YELLOW)),
        green=Count("id", filter=Q(colour=Colour.GREEN)),
        needs_plan=Count("id", filter=Q(needs_plan=True)),
        active=Count("id"),
    )
    as_of = (
        Project.objects.exclude(computed_as_of=None)
        .order_by("-computed_as_of")
        .values_list("computed_as_of", flat=True)
        .first()
    )
    return {"projects": projects, "counts": counts, "as_of": as_of}
