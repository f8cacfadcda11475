"""Admin for departments, projects, milestone types and milestones."""
from datetime import date

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from qiantang import colours
from qiantang.clock import local_today
from qiantang.forms import add_service_errors
from qiantang.people import display_name
from qiantang_warnings.services import recompute_all, recompute_projects

from .forms import ThrottledAdminAuthenticationForm
from .models import (
    CoordinationEvent,
    CoordinationItem,
    Department,
    LoginFailure,
    Milestone,
    MilestoneReplan,
    MilestoneType,
    ProgressEntry,
    Project,
    ReplanProposal,
)
from . import permissions
from .services import REPLAN_NEEDS_PROPOSAL, milestone_change_record, stored_planned_date

# The admin signs in through the same throttle as the site, so a lock holds at both.
admin.site.login_form = ThrottledAdminAuthenticationForm

ALL_PROJECTS = None


class RecomputeOnSaveMixin:
    """Admin mixin: after a save or delete, recompute the projects it affects."""

    def affected_project_ids(self, obj):
        """Ids of projects whose colour this object feeds; ALL_PROJECTS for all."""
        raise NotImplementedError

    def _recompute(self, project_ids):
        today = local_today()
        if project_ids is ALL_PROJECTS:
            recompute_all(today=today)
        elif project_ids:
            recompute_projects(project_ids, today=today)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self._recompute(self.affected_project_ids(form.instance))

    def delete_model(self, request, obj):
        affected = self.affected_project_ids(obj)
        super().delete_model(request, obj)
        self._recompute(affected)

    def delete_queryset(self, request, queryset):
        affected = set()
        for obj in queryset:
            ids = self.affected_project_ids(obj)
            if ids is ALL_PROJECTS:
                affected = ALL_PROJECTS
                break
            affected.update(ids)
        super().delete_queryset(request, queryset)
        self._recompute(affected)




class WrittenBySystemMixin:
    """A record the site writes (status changes, recompute runs, deliveries, progress entries,
    sign-in failures): read in the admin, never added or edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class KeptForeverMixin(WrittenBySystemMixin):
    """A record that is history (re-plans, proposals, coordination items): not deleted either."""

    def has_delete_permission(self, request, obj=None):
        return False


def colour_badge(colour: str, label: str):
    if not colour:
        return "—"
    return format_html(
        '<span style="display:inline-block;min-width:2.5em;padding:1px 6px;border-radius:8px;'
        'color:#fff;background:{};text-align:center">{}</span>',
        colours.SCREEN[colour],
        label,
    )


class MilestoneForm(forms.ModelForm):
    """Milestone edit with the refusals of the rules and a re-plan reason."""

    replan_reason = forms.CharField(
        label=_("调整原因"), required=False, widget=forms.TextInput(attrs={"size": 20})
    )
    # Who saves (set by the admin classes below, see with_requesting_user): a staff user who
    # may not re-plan directly proposes on the project page, as everywhere else.
    requesting_user = None

    class Meta:
        model = Milestone
        fields = [
            "milestone_type", "planned_date", "actual_date", "not_applicable",
            "owner_department",
        ]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        previous = stored_planned_date(self.instance)
        replans = previous is not None and cleaned.get("planned_date") != previous
        if (
            replans
            and self.requesting_user is not None
            and not permissions.may_replan_directly(self.requesting_user, self.instance)
        ):
            self.add_error("planned_date", REPLAN_NEEDS_PROPOSAL)
            return cleaned
        self.instance.planned_date = cleaned.get("planned_date")
        self.instance.actual_date = cleaned.get("actual_date")
        try:
            self.instance.clean_against(
                today=local_today(),
                previous_planned_date=previous,
                replan_reason=cleaned.get("replan_reason") or "",
            )
        except ValidationError as error:
            add_service_errors(self, error)
        return cleaned

    def save(self, commit=True):
        milestone = super().save(commit=False)
        if commit:
            self._save_with_history(milestone)
        return milestone

    def _save_with_history(self, milestone, by=None):
        milestone_change_record(
            milestone,
            replan_reason=self.cleaned_data.get("replan_reason") or "",
            by=by,
            today=local_today(),
        )


def with_requesting_user(form_class, user):
    """The admin's milestone form class, knowing who saves (MilestoneForm.requesting_user)."""
    return type(form_class.__name__, (form_class,), {"requesting_user": user})


class MilestoneInlineFormSet(BaseInlineFormSet):
    def save_new(self, form, commit=True):
        # A new project already has a blank milestone of every type (Project.save()):
        # a milestone entered on the add page fills that one in instead of a second row.
        milestone = form.save(commit=False)
        milestone.project = self.instance
        blank = Milestone.objects.filter(
            project=self.instance, milestone_type=milestone.milestone_type
        ).values_list("pk", flat=True).first()
        if blank is not None:
            milestone.pk = blank
            milestone._state.adding = False
        if commit:
            milestone.save()
            form.save_m2m()
        return milestone


class MilestoneInline(admin.TabularInline):
    model = Milestone
    form = MilestoneForm
    formset = MilestoneInlineFormSet
    extra = 0
    # A project has a milestone of every type; clearing its dates is the way to empty one.
    can_delete = False
    fields = [
        "milestone_type", "planned_date", "replan_reason", "actual_date", "not_applicable",
        "owner_department", "baseline_date",
    ]
    readonly_fields = ["baseline_date"]
    autocomplete_fields = ["owner_department"]
    ordering = ["milestone_type__order"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = with_requesting_user(formset.form, request.user)
        return formset


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "project_count"]
    list_filter = ["kind"]
    search_fields = ["name"]
    filter_horizontal = ["liaisons"]

    def get_queryset(self, request):
        # One COUNT per changelist, not one per department row.
        return super().get_queryset(request).annotate(led_project_count=Count("led_projects"))

    @admin.display(description=_("牵头项目数"), ordering="led_project_count")
    def project_count(self, obj):
        return obj.led_project_count


@admin.register(Project)
class ProjectAdmin(RecomputeOnSaveMixin, admin.ModelAdmin):
    list_display = [
        # Kept to what fits beside the admin's sidebar; level, sector, state and the
        # as-of date are in the filters and on the change page.
        "code", "name", "colour_badge", "headline", "lead_department", "cadre",
        "total_investment",
    ]
    list_display_links = ["code", "name"]
    list_filter = [
        "colour", "state", "level", "needs_plan", "sector", "lead_department", "direct_replan_allowed",
    ]
    search_fields = [
        "code", "name", "sector", "responsible_cadre__username",
        "responsible_cadre__first_name", "responsible_cadre__last_name",
    ]
    list_select_related = ["lead_department", "responsible_cadre"]
    autocomplete_fields = ["lead_department", "responsible_cadre"]
    filter_horizontal = ["team"]
    list_per_page = 50
    inlines = [MilestoneInline]  # qiantang_warnings.admin adds the escalations
    readonly_fields = [
        "colour", "reason_list", "needs_plan", "computed_as_of", "colour_changed_at", "recheck_day",
        "created_at", "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["code", "name", "sector", "level", "total_investment", "state"]}),
        (_("责任"), {"fields": ["lead_department", "responsible_cadre", "team"]}),
        (_("进展"), {"fields": ["progress_note", "open_problems"]}),
        (_("调整计划"), {"fields": ["direct_replan_allowed"]}),
        (
            _("预警（由系统计算）"),
            {"fields": ["colour", "reason_list", "needs_plan", "computed_as_of", "colour_changed_at", "recheck_day"]},
        ),
        (_("记录"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("预警等级"), ordering="colour")
    def colour_badge(self, obj):
        return colour_badge(obj.colour, obj.get_colour_display())

    @admin.display(description=_("责任干部"), ordering="responsible_cadre__last_name")
    def cadre(self, obj):
        user = obj.responsible_cadre
        return display_name(user) if user else "—"

    @admin.display(description=_("预警原因"))
    def headline(self, obj):
        return obj.headline_reason

    @admin.display(description=_("预警原因"))
    def reason_list(self, obj):
        return "；".join(obj.reason_texts) or "—"

    @admin.display(description=_("下次复核日期"))
    def recheck_day(self, obj):
        """The day the next full recompute looks at the project again (Project.recheck_on)."""
        if obj.recheck_on is None:
            return _("下次重算时")
        if obj.recheck_on == date.max:
            return _("不会随时间变化")
        return date_format(obj.recheck_on)

    def save_formset(self, request, form, formset, change):
        if formset.model is Milestone:
            instances = formset.save(commit=False)
            for obj in formset.deleted_objects:
                obj.delete()
            for milestone_form in formset.forms:
                milestone = milestone_form.instance
                if milestone in instances:
                    milestone.project = form.instance
                    milestone_form._save_with_history(milestone, by=request.user)
            return
        super().save_formset(request, form, formset, change)

    def affected_project_ids(self, obj):
        return [obj.pk] if obj.pk else []


@admin.register(MilestoneType)
class MilestoneTypeAdmin(RecomputeOnSaveMixin, admin.ModelAdmin):
    list_display = [
        "order", "code", "name", "standard_days", "yellow_before_days",
        "yellow_window_disabled", "red_after_days", "count_working_days", "direct_replan_allowed",
    ]
    list_display_links = ["code", "name"]
    list_filter = ["yellow_window_disabled", "count_working_days", "direct_replan_allowed"]
    search_fields = ["code", "name"]

    def affected_project_ids(self, obj):
        return ALL_PROJECTS


class MilestoneReplanInline(admin.TabularInline):
    model = MilestoneReplan
    extra = 0
    fields = ["old_planned_date", "new_planned_date", "reason", "author", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Milestone)
class MilestoneAdmin(RecomputeOnSaveMixin, admin.ModelAdmin):
    form = MilestoneForm
    list_display = [
        "project", "milestone_type", "planned_date", "baseline_date", "actual_date",
        "not_applicable", "owner_department",
    ]
    list_filter = ["milestone_type", "not_applicable", "owner_department"]
    search_fields = ["project__code", "project__name"]
    list_select_related = ["project", "milestone_type", "owner_department"]
    autocomplete_fields = ["project", "owner_department"]
    readonly_fields = ["baseline_date"]
    fields = [
        "project", "milestone_type", "planned_date", "replan_reason", "baseline_date",
        "actual_date", "not_applicable", "owner_department",
    ]
    inlines = [MilestoneReplanInline]

    def get_form(self, request, obj=None, **kwargs):
        return with_requesting_user(super().get_form(request, obj, **kwargs), request.user)

    def has_delete_permission(self, request, obj=None):
        # Every project has a milestone of every catalogue type (its page lists them all);
        # clearing the dates empties one. A project's deletion still takes its milestones.
        return False

    def save_model(self, request, obj, form, change):
        form._save_with_history(obj, by=request.user)

    def affected_project_ids(self, obj):
        return [obj.project_id]


@admin.register(MilestoneReplan)
class MilestoneReplanAdmin(KeptForeverMixin, admin.ModelAdmin):
    """A re-plan is history: deleting it would lower the project's re-plan count."""

    list_display = ["milestone", "old_planned_date", "new_planned_date", "reason", "author", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["milestone__project__code", "milestone__project__name", "reason"]
    list_select_related = ["milestone__project", "milestone__milestone_type", "author"]


@admin.register(ProgressEntry)
class ProgressEntryAdmin(WrittenBySystemMixin, admin.ModelAdmin):
    """The dated story of each project's progress note and open problems (read only:
    entries are written from the project page)."""

    list_display = ["project", "kind", "short_text", "author", "created_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["project__code", "project__name", "text"]
    list_select_related = ["project", "author"]
    date_hierarchy = "created_at"

    @admin.display(description=_("内容"))
    def short_text(self, obj):
        return obj.text if len(obj.text) <= 60 else obj.text[:60] + "…"


@admin.register(LoginFailure)
class LoginFailureAdmin(WrittenBySystemMixin, admin.ModelAdmin):
    """Failed sign-ins being counted; deleting a user's rows lifts their lock early."""

    list_display = ["username", "ip_address", "at"]
    list_filter = ["at"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "at"


@admin.register(ReplanProposal)
class ReplanProposalAdmin(KeptForeverMixin, admin.ModelAdmin):
    """调整计划申请, read only: proposed from the project page, decided in the queue
    (/replans/), where the decision re-plans the milestone and recomputes the project."""

    list_display = [
        "milestone", "previous_planned_date", "proposed_planned_date", "state", "proposer",
        "created_at", "decided_by", "decided_at",
    ]
    list_filter = ["state", "created_at", "decided_at"]
    search_fields = [
        "milestone__project__code", "milestone__project__name", "reason", "document_number",
    ]
    list_select_related = ["milestone__project", "milestone__milestone_type", "proposer", "decided_by"]
    date_hierarchy = "created_at"


class CoordinationEventInline(admin.TabularInline):
    model = CoordinationEvent
    extra = 0
    fields = ["at", "kind", "by", "comment"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CoordinationItem)
class CoordinationItemAdmin(KeptForeverMixin, admin.ModelAdmin):
    """协调事项, read in the admin: they change only through their steps on the site (each
    recorded), so the office sees every item and its steps here but edits none."""

    list_display = ["project", "department", "deadline", "state", "raised_by", "raised_at"]
    list_filter = ["state", "department"]
    search_fields = ["project__code", "project__name", "need"]
    list_select_related = ["project", "department", "raised_by"]
    date_hierarchy = "deadline"
    inlines = [CoordinationEventInline]
