"""How a person's name is shown: surname first, no space (Chinese order), else the
username; display_name() for a user object, person_name() the same rule in SQL."""
from django.db.models import CharField, Value
from django.db.models.functions import Coalesce, Concat, NullIf


def display_name(user) -> str:
    return f"{user.last_name}{user.first_name}" or user.username


def person_name(prefix: str = ""):
    """An expression for the name of the user at `prefix` (e.g. "responsible_cadre__")."""
    full = Concat(f"{prefix}last_name", f"{prefix}first_name", output_field=CharField())
    return Coalesce(NullIf(full, Value("")), f"{prefix}username", output_field=CharField())
