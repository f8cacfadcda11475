from django import forms
from django.utils.translation import gettext_lazy as _


class SnapshotForm(forms.Form):
    name = forms.CharField(
        label=_("快照名称"), max_length=100, strip=True,
        error_messages={"required": _("请填写快照名称，如：12月区委常委会前"),
                        "max_length": _("快照名称最多100个字")},
    )
