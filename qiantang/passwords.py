"""Password rules in the UI's language.

Django 5.2's Chinese catalogue has no translation of the minimum-length error, so a
cadre changing a password read "This password is too short…" in English on a Chinese page.
The same rule, with its message in our catalogue (Chinese, English in locale/en)."""
from django.contrib.auth import password_validation
from django.utils.translation import gettext as _


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return _("密码太短，至少需要%(min_length)d个字符。") % {"min_length": self.min_length}
