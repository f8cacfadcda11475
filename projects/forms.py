"""Forms of the staff pages: a milestone edit, a progress entry, an escalation (督办),
and the throttled sign-in form."""
from __future__ import annotations

from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from qiantang_warnings.models import Escalation

from .models import EARLIEST_DATE, LATEST_DATE, ProgressEntry, validate_date_in_range

DATE_ERRORS = {"invalid": _("请输入有效的日期（年-月-日）")}


def date_input(**attrs):
    return forms.DateInput(
        format="%Y-%m-%d",
        attrs={"type": "date", "min": EARLIEST_DATE.isoformat(), "max": LATEST_DATE.isoformat(), **attrs},
    )


class VersionField(forms.CharField):
    """The stored `updated_at` the form was built from, as ISO text (hidden)."""

    widget = forms.HiddenInput

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(_("页面数据已失效，请刷新后重试"), code="bad_version")


class MilestoneEditForm(forms.Form):
    planned_date = forms.DateField(
        label=_("计划完成日期"), required=False, widget=date_input(),
        validators=[validate_date_in_range], error_messages=DATE_ERRORS,
    )
    replan_reason = forms.CharField(
        label=_("调整原因"), required=False, max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("调整计划完成日期时必填")}),
    )
    actual_date = forms.DateField(
        label=_("实际完成日期"), required=False, widget=date_input(autofocus=True),
        validators=[validate_date_in_range], error_messages=DATE_ERRORS,
    )
    not_applicable = forms.BooleanField(label=_("不适用"), required=False)
    updated_at = VersionField(required=False)
    # The "今天完成" button: fills an empty actual date with today.
    done_today = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, milestone, today, **kwargs):
        self.milestone = milestone
        self.today = today
        if not args and "data" not in kwargs:
            kwargs.setdefault("initial", self.initial_for(milestone))
        super().__init__(*args, **kwargs)
        self.fields["actual_date"].widget.attrs["max"] = today.isoformat()

    @staticmethod
    def initial_for(milestone) -> dict:
        return {
            "planned_date": milestone.planned_date,
            "actual_date": milestone.actual_date,
            "not_applicable": milestone.not_applicable,
            "updated_at": milestone.updated_at.isoformat() if milestone.updated_at else "",
        }

    @property
    def asks_replan_reason(self) -> bool:
        return self.milestone.planned_date is not None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("done_today") and not cleaned.get("actual_date") and "actual_date" not in self.errors:
            cleaned["actual_date"] = self.today
        return cleaned


class ProgressForm(forms.Form):
    text = forms.CharField(
        label=_("内容"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": _("内容不能超过%(limit_value)d字")},
    )
    based_on = forms.IntegerField(required=False, widget=forms.HiddenInput)


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


PROGRESS_KINDS = [kind for kind, _label in ProgressEntry.Kind.choices]


class ThrottledAuthenticationForm(AuthenticationForm):
    """The sign-in form, refusing a username (or address) after too many failures."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确，请重新输入。"),
        "throttled": _("登录失败次数过多，请%(minutes)s分钟后再试。"),
    }

    def clean(self):
        from django.utils import timezone

        from . import throttle

        username = self.cleaned_data.get("username") or ""
        ip_address = self.request.META.get("REMOTE_ADDR") if self.request else None
        now = timezone.now()
        if username and throttle.is_locked(username, ip_address, now=now):
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": max(1, settings.LOGIN_FAILURE_WINDOW // 60)},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError as error:
            if error.code == "invalid_login":
                throttle.record_failure(username, ip_address, now=now)
            raise
        throttle.clear_failures(username)
        return cleaned
