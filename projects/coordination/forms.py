"""The forms of a coordination item: raising one, and the comment of a step."""
from django import forms
from django.utils.translation import gettext_lazy as _

from qiantang.dates import validate_date_in_range

from ..forms import DATE_ERRORS, date_input
from ..models import Department


class ItemRaiseForm(forms.Form):
    need = forms.CharField(
        label=_("协调事项"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写需要协调解决的事项")},
    )
    department = forms.ModelChoiceField(
        label=_("责任单位"), queryset=Department.objects.order_by("kind", "name"),
        error_messages={"required": _("请选择责任单位"), "invalid_choice": _("请选择责任单位")},
    )
    deadline = forms.DateField(
        label=_("办结时限"), widget=date_input(), validators=[validate_date_in_range],
        error_messages={**DATE_ERRORS, "required": _("请填写办结时限")},
    )
    milestone = forms.TypedChoiceField(label=_("影响节点"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, project, milestones=None, **kwargs):
        """`milestones`: the project's, in catalogue order, when the page has them already."""
        super().__init__(*args, **kwargs)
        if milestones is None:
            milestones = project.milestones.select_related("milestone_type").order_by("milestone_type__order")
        self._milestones = {milestone.pk: milestone for milestone in milestones}
        self.fields["milestone"].choices = [("", "—")] + [
            (milestone.pk, milestone.milestone_type.name) for milestone in self._milestones.values()
        ]

    def clean_milestone(self):
        chosen = self.cleaned_data.get("milestone")
        return self._milestones.get(chosen) if chosen is not None else None


class ItemStepForm(forms.Form):
    comment = forms.CharField(label=_("说明"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ItemAssignForm(forms.Form):
    """分派: the office gives an item from the workbook its department and deadline."""

    department = forms.ModelChoiceField(
        label=_("责任单位"), queryset=Department.objects.all(),
        error_messages={"required": _("请选择责任单位"), "invalid_choice": _("请选择责任单位")},
    )
    deadline = forms.DateField(
        label=_("办结时限"), validators=[validate_date_in_range],
        error_messages={**DATE_ERRORS, "required": _("请填写办结时限")},
    )
