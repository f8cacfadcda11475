"""Template helpers for the staff pages."""
from django import template

register = template.Library()


@register.filter
def person(user) -> str:
    """A user's name surname first (Chinese order), else the username; "—" for nobody."""
    if user is None:
        return "—"
    full = f"{user.last_name}{user.first_name}"
    return full or user.username
