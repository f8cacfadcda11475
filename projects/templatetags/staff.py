"""Template helpers for the staff pages."""
from django import template

from projects.selectors import display_name

register = template.Library()


@register.filter
def person(user) -> str:
    """A user's name surname first (Chinese order), else the username; "—" for nobody."""
    if user is None:
        return "—"
    return display_name(user)
