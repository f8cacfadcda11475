"""add_service_errors: a service's refusal lands on the form, whatever its shape."""
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from qiantang.forms import add_service_errors


class DateForm(forms.Form):
    day = forms.DateField(required=False)


def bound():
    form = DateForm({"day": ""})
    assert form.is_valid()
    return form


def test_field_messages_go_beside_their_field_and_the_rest_above_the_form():
    form = bound()
    add_service_errors(form, ValidationError({
        "day": ["日期不对"], "until": ["截止日期不对"], NON_FIELD_ERRORS: ["整体不对"],
    }))
    assert form.errors["day"] == ["日期不对"]
    assert form.non_field_errors() == ["截止日期不对", "整体不对"]


def test_a_plain_refusal_goes_above_the_form():
    # e.g. replan_propose's "already pending" found under the lock: no field of its own.
    form = bound()
    add_service_errors(form, ValidationError("该节点已有待审核的调整计划申请"))
    assert form.non_field_errors() == ["该节点已有待审核的调整计划申请"]
