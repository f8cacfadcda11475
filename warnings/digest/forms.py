"""The digest preferences form (a user's own: whether and when to receive the digest)."""
from django import forms
from django.utils.translation import gettext_lazy

from ..models import DigestPreference


class DigestPreferenceForm(forms.ModelForm):
    class Meta:
        model = DigestPreference
        fields = ["enabled", "send_empty"]
        labels = {
            "enabled": gettext_lazy("每周一早上接收预警周报邮件"),
            "send_empty": gettext_lazy("没有预警事项时也发送（“全部绿灯”）"),
        }
