"""督办 (escalation): the form a leader or the office fills on the project page."""
"""Forms of the warnings engine shown on the staff pages: an escalation (督办)."""
from django import forms
from django.utils.translation import gettext_lazy as _

from projects.forms import DATE_ERRORS, date_input

from ..models import Escalation


class EscalationForm(forms.Form):
    colour = forms.ChoiceField(
        label=_("督办等级"), choices=Escalation.EscalatedColour.choices,
        initial=Escalation.EscalatedColour.RED,
    )
    reason = forms.CharField(
        label=_("督办原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("督办须填写原因")},
    )
    until = forms.DateField(
        label=_("督办截止日期"), widget=date_input(), error_messages={
            **DATE_ERRORS, "required": _("请填写督办截止日期"),
        },
    )

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["until"].widget.attrs["min"] = today.isoformat()


class LadderEscalateForm(forms.Form):
    """Accepting the ladder's 督办 suggestion: its prefilled reason and end date, editable."""

    reason = forms.CharField(label=_("督办原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("督办须填写原因")})
    until = forms.DateField(label=_("督办截止日期"), widget=date_input(),
                            error_messages={**DATE_ERRORS, "required": _("请填写督办截止日期")})


class TalkForm(forms.Form):
    held_on = forms.DateField(label=_("约谈日期"), widget=date_input(),
                              error_messages={**DATE_ERRORS, "required": _("请填写约谈日期")})
    participants = forms.CharField(label=_("约谈对象与参加人"), max_length=300,
                                   error_messages={"required": _("请填写约谈对象与参加人")})
    agreed = forms.CharField(label=_("约谈议定事项"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("请填写约谈议定事项")})
    follow_up_on = forms.DateField(label=_("跟进日期"), widget=date_input(),
                                   error_messages={**DATE_ERRORS, "required": _("请填写跟进日期")})


class DismissForm(forms.Form):
    comment = forms.CharField(label=_("不采纳理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                              error_messages={"required": _("请说明不采纳的理由")})
