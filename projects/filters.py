"""The one set of project filters shared by the project list, the dashboard
and the workbook export, so a link or an export reproduces the same view.

Query parameters: sector, department (lead department id), cadre (responsible
cadre id), level, state, colour, q (free text over code and name).
"""
import functools
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from qiantang.people import display_name

from .models import Colour, Department, Project

FILTER_PARAMS = ("sector", "department", "cadre", "level", "state", "colour", "q")


def _sector_choices() -> list[tuple[str, str]]:
    sectors = (
        Project.objects.exclude(sector="").order_by("sector").values_list("sector", flat=True).distinct()
    )
    return [("", _("全部"))] + [(s, s) for s in sectors]


class ProjectFilterForm(forms.Form):
    sector = forms.ChoiceField(label=_("产业类别"), required=False)
    department = forms.ModelChoiceField(
        label=_("牵头单位"), queryset=Department.objects.all(), required=False,
        empty_label=_("全部"),
    )
    cadre = forms.ModelChoiceField(
        label=_("责任干部"),
        queryset=get_user_model().objects.filter(responsible_projects__isnull=False).distinct()
        .order_by("last_name", "first_name", "username"),
        required=False,
        empty_label=_("全部"),
    )
    level = forms.ChoiceField(
        label=_("项目级别"), choices=[("", _("全部"))] + Project.Level.choices, required=False
    )
    state = forms.ChoiceField(
        label=_("项目状态"), choices=[("", _("全部"))] + Project.State.choices, required=False
    )
    colour = forms.ChoiceField(
        label=_("预警等级"), choices=[("", _("全部"))] + Colour.choices, required=False
    )
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read when the choices are shown or a sector is checked, not when the form is made:
        # the dashboard's cached pages and polls never ask for them.
        self.fields["sector"].choices = functools.cache(_sector_choices)  # once per form
        self.fields["cadre"].label_from_instance = display_name

    def filter(self, queryset: QuerySet) -> QuerySet:
        """Apply the valid filters; invalid values are ignored (the form shows them)."""
        if not self.is_bound:
            return queryset
        self.is_valid()  # cleaned_data then holds the valid fields only
        return apply_filters(queryset, self.cleaned_data)

    def query_string(self) -> str:
        """The active filters as a URL query string (for links and exports)."""
        if not self.is_bound:
            return ""
        pairs = [(name, self.data.get(name)) for name in FILTER_PARAMS if self.data.get(name)]
        return urlencode(pairs)


def apply_filters(queryset: QuerySet, data: dict) -> QuerySet:
    """Filter projects by cleaned filter values (empty values mean "all"). Also a ledger's
    frozen rows (LedgerRow), which keep the same columns: what was frozen, not what is now."""
    if data.get("sector"):
        queryset = queryset.filter(sector=data["sector"])
    if data.get("department"):
        queryset = queryset.filter(lead_department_id=data["department"].pk)
    if data.get("cadre"):
        queryset = queryset.filter(responsible_cadre_id=data["cadre"].pk)
    if data.get("level"):
        queryset = queryset.filter(level=data["level"])
    if data.get("state"):
        queryset = queryset.filter(state=data["state"])
    if data.get("colour"):
        # Colours belong to active projects only (the rules leave others uncoloured).
        queryset = queryset.filter(state=Project.State.ACTIVE, colour=data["colour"])
    if data.get("q"):
        text = data["q"].strip()
        queryset = queryset.filter(Q(code__icontains=text) | Q(name__icontains=text))
    return queryset
