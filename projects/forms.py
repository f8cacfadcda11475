"""Forms of the staff pages: a milestone edit, a progress entry, a re-plan proposal,
and the throttled password forms (site and admin sign-in, password change)."""
from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from qiantang.dates import EARLIEST_DATE, LATEST_DATE, validate_date_in_range

from . import throttle
from .models import DONE_AND_NOT_APPLICABLE, ProgressEntry

DATE_ERRORS = {"invalid": _("请输入有效的日期（年-月-日）")}


def date_input(**attrs):
    return forms.DateInput(
        format="%Y-%m-%d",
        attrs={"type": "date", "min": EARLIEST_DATE.isoformat(), "max": LATEST_DATE.isoformat(), **attrs},
    )


STALE_PAGE = _("页面数据已失效，请刷新后重试")


class VersionField(forms.CharField):
    """The stored `updated_at` the form was built from, as ISO text (hidden). Required: a
    POST without it (an old page, a hand-made request) would skip the conflict check."""

    widget = forms.HiddenInput
    default_error_messages = {"required": STALE_PAGE}

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(STALE_PAGE, code="bad_version")


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
    not_applicable_reason = forms.CharField(
        label=_("不适用原因"), required=False, max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("标记不适用时必填")}),
    )
    updated_at = VersionField()
    # The "今天完成" button: fills an empty actual date with today.
    done_today = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, milestone, today, replan_by_proposal=False, **kwargs):
        self.milestone = milestone
        self.today = today
        # An existing plan that this editor may not move: shown, not editable; the
        # form offers 申请调整计划 instead (the server refuses a change either way).
        self.replan_by_proposal = replan_by_proposal and milestone.planned_date is not None
        if not args and "data" not in kwargs:
            kwargs.setdefault("initial", {}).update(self.initial_for(milestone))
        super().__init__(*args, **kwargs)
        self.fields["actual_date"].widget.attrs["max"] = today.isoformat()
        if self.replan_by_proposal:
            # Read-only, not disabled: a changed date that still arrives (an old page, a
            # hand-made POST) is refused with the reason by milestone_edit, never dropped.
            self.fields["planned_date"].widget.attrs["readonly"] = True

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
        return self.milestone.planned_date is not None and not self.replan_by_proposal

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("done_today") and not cleaned.get("actual_date") and "actual_date" not in self.errors:
            cleaned["actual_date"] = self.today
        if (
            cleaned.get("not_applicable") and not self.milestone.not_applicable
            and not (cleaned.get("not_applicable_reason") or "").strip()
            and "not_applicable_reason" not in self.errors
        ):
            # Taking a milestone out of the colour is a decision worth a reason, like a re-plan.
            self.add_error("not_applicable_reason", _("标记不适用须填写原因"))
        if cleaned.get("not_applicable") and cleaned.get("actual_date") and "actual_date" not in self.errors:
            # Done or not applicable, never both (the workbook import refuses the pair too).
            self.add_error("actual_date", DONE_AND_NOT_APPLICABLE)
        if "updated_at" in self.errors:
            # A hidden field shows no error of its own: say it where the form's errors are.
            self.add_error(None, self.errors.pop("updated_at"))
        return cleaned


class ProgressForm(forms.Form):
    text = forms.CharField(
        label=_("内容"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": _("内容不能超过%(limit_value)d字")},
    )
    based_on = forms.IntegerField(required=False, widget=forms.HiddenInput)


PROGRESS_KINDS = [kind for kind, _label in ProgressEntry.Kind.choices]


class SignInThrottleMixin:
    """What every password entrance shares: the check goes through the one
    throttle (projects/throttle.py), and a lock reads the same everywhere."""

    throttled_message = _("登录失败次数过多，请%(minutes)s分钟后再试。")

    def throttled_check(self, username: str, ip_address: str | None, check) -> bool:
        """`check()` says whether the password is right; returns that, or raises the
        lock's ValidationError without checking."""
        try:
            return throttle.attempt(username, ip_address, now=timezone.now(), check=check)
        except throttle.Locked:
            raise forms.ValidationError(
                self.throttled_message, code="throttled", params={"minutes": throttle.lock_minutes()},
            ) from None


class ThrottledLoginMixin(SignInThrottleMixin):
    """AuthenticationForm.clean with the password check under the throttle; the
    form's own confirm_login_allowed (the admin's staff check) still decides after
    a right password, and its refusal is not counted as a guess."""

    @sensitive_variables()
    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data  # the field errors say what is missing

        @sensitive_variables()
        def password_is_right():
            self.user_cache = authenticate(self.request, username=username, password=password)
            return self.user_cache is not None

        ip_address = self.request.META.get("REMOTE_ADDR") if self.request else None
        if not self.throttled_check(username, ip_address, password_is_right):
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    """The site's sign-in form (/accounts/login/)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确，请重新输入。"),
    }


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's sign-in form (admin.site.login_form), staff only as before."""


class ThrottledPasswordChangeForm(SignInThrottleMixin, PasswordChangeForm):
    """Changing one's password: the old password is a guess like any other, so a
    session left open cannot be used to try passwords without limit. Counted for
    the user's username (the form has no request, so no address)."""

    @sensitive_variables("old_password")
    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]

        @sensitive_variables()
        def password_is_right():
            return self.user.check_password(old_password)

        if not self.throttled_check(self.user.get_username(), None, password_is_right):
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


# --- Re-plans (调整计划申请): proposed by editors, decided by the office ----------------------


class ReplanProposalForm(forms.Form):
    """申请调整计划 from the project page; replan_propose makes the other refusals."""

    proposed_planned_date = forms.DateField(
        label=_("申请计划完成日期"), widget=date_input(),
        validators=[validate_date_in_range],
        error_messages={**DATE_ERRORS, "required": _("请填写申请的计划完成日期")},
    )
    reason = forms.CharField(
        label=_("调整原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写调整原因")},
    )
    document_number = forms.CharField(
        label=_("文号"), required=False, max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("如有批复文件，填写文号")}),
    )


class ReplanDecisionForm(forms.Form):
    """The office's comment on an approval (optional) or a rejection (required by the service)."""

    comment = forms.CharField(
        label=_("审核意见"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("审核意见不能超过%(limit_value)d字")},
    )
