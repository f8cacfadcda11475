"""Template helpers for the staff pages."""
from django import template
from django.utils.html import format_html_join

from qiantang import colours
from qiantang.people import display_name
from qiantang_warnings.reasons import render_reason

from .. import navigation

register = template.Library()


@register.filter
def person(user) -> str:
    """A user's name surname first (Chinese order), else the username; "—" for nobody."""
    if user is None:
        return "—"
    return display_name(user)


@register.inclusion_tag("projects/replan_marks.html")
def replan_marks(project):
    """Beside a project's colour: its baseline colour when that differs, 调整后绿, and how
    many times its plans were moved. The same marks on every page that lists projects."""
    return {"project": project}


@register.filter
def direct_replan_type_names(rows) -> str:
    """The milestone types of a project's timeline rows where the office allowed direct
    re-plans (允许直接调整计划), joined for display; "" when none."""
    return "、".join(
        row.milestone.milestone_type.name
        for row in rows
        if row.milestone.milestone_type.direct_replan_allowed
    )


@register.simple_tag(takes_context=True)
def replan_nav_count(context):
    """The navigation's count of pending re-plan proposals, or None for users who do not
    see the queue's link (no query for them). A page that already counted passes
    `replan_count` in its context."""
    if "replan_count" in context:
        return context["replan_count"]
    return navigation.replan_nav_count(context.get("request"))


@register.simple_tag(takes_context=True)
def shows_workbook_import(context) -> bool:
    """Whether the navigation links the workbook import (the office)."""
    return navigation.shows_workbook_import(context.get("request"))


@register.filter
def colour_label(colour, wording: str = colours.SHORT) -> str:
    """The colour in the reader's language (qiantang.colours): 红 by default, or
    `colour|colour_label:"lamp"` 红灯, `"warning"` 红色预警, `"list"` 红色预警项目."""
    return colours.label(colour, wording)


@register.filter
def colour_hex(colour) -> str:
    """The screen colour of a badge (emails cannot use the stylesheet's variables)."""
    return colours.SCREEN.get(colour, "#667085")


@register.filter
def colour_tint(colour) -> str:
    """A light background for dark text in the colour's cell (emails)."""
    return colours.TINT.get(colour, "#ffffff")


@register.filter
def colour_on_tint(colour) -> str:
    """Dark text in the colour, on its tint (emails)."""
    return colours.ON_TINT.get(colour, "#15803d")


@register.simple_tag
def field_errors(bound_field):
    """A form field's errors as the pages show them, beside the field."""
    return format_html_join("", '<span class="field-error">{}</span>', ((e,) for e in bound_field.errors))


@register.filter
def reason_text(reason: dict) -> str:
    """A stored reason (预警原因) in the reader's language."""
    return render_reason(reason)
