"""Form helpers shared by the apps' views and admin."""
from django.core.exceptions import ValidationError


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's refusal on the form: each message beside its field where the form has
    one, the rest above the form. Takes both kinds of ValidationError (a dict of fields, or
    a plain message such as a refusal found under a lock)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)
