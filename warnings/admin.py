"""Admin for policy, calendar, escalations and status changes.

Every save that can change a colour recomputes the affected projects in the
same request (and transaction), so nobody waits for beat.
"""
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from projects.admin import ALL_PROJECTS, ProjectAdmin, RecomputeOnSaveMixin
from qiantang.clock import local_today

from .models import CalendarDay, Escalation, RecomputeRun, StatusChange, WarningPolicy
from .reasons import render_reason
from .rules_context import uncovered_years_to_report


class EscalationInline(admin.TabularInline):
    """督办 on the project's admin page; a new one is signed by whoever adds it."""

    model = Escalation
    extra = 0
    fields = ["colour", "reason", "until", "author", "created_at"]
    readonly_fields = ["author", "created_at"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class SignedFormSet(formset):
            def save_new(self, form, commit=True):
                form.instance.author = request.user
                return super().save_new(form, commit=commit)

        return SignedFormSet


# The warnings engine adds its inline to the register's project page (this app depends on
# projects, never the other way round); ProjectAdmin recomputes after every save.
ProjectAdmin.inlines = [*ProjectAdmin.inlines, EscalationInline]

@admin.register(WarningPolicy)
class WarningPolicyAdmin(RecomputeOnSaveMixin, admin.ModelAdmin):
    list_display = ["__str__", "yellow_before_days", "red_after_days", "count_working_days", "updated_at"]
    list_filter = ["count_working_days"]
    search_fields = []

    def affected_project_ids(self, obj):
        return ALL_PROJECTS

    def has_add_permission(self, request):
        return not WarningPolicy.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        uncovered = uncovered_years_to_report(local_today())
        if uncovered and request.method == "GET":
            years = "、".join(str(year) for year in uncovered)
            messages.warning(
                request,
                _(
                    "%(years)s年的法定节假日与调休尚无来源（程序包未收录，工作日历也未录入）："
                    "按工作日计算时这些年份仅按周末计算。请在“工作日历”中录入当年安排。"
                )
                % {"years": years},
            )
        return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        uncovered = uncovered_years_to_report(local_today())
        if uncovered:
            years = "、".join(str(year) for year in uncovered)
            messages.warning(
                request,
                _("%(years)s年的法定节假日与调休尚无来源：按工作日计算时仅按周末计算。")
                % {"years": years},
            )
        return super().changelist_view(request, extra_context)


@admin.register(CalendarDay)
class CalendarDayAdmin(RecomputeOnSaveMixin, admin.ModelAdmin):
    list_display = ["date", "is_working_day", "note"]
    list_filter = ["is_working_day"]
    search_fields = ["note", "date"]
    date_hierarchy = "date"

    def affected_project_ids(self, obj):
        return ALL_PROJECTS


@admin.register(Escalation)
class EscalationAdmin(RecomputeOnSaveMixin, admin.ModelAdmin):
    list_display = ["project", "colour", "reason", "until", "author", "created_at"]
    list_filter = ["colour", "until"]
    search_fields = ["project__code", "project__name", "reason"]
    autocomplete_fields = ["project"]
    readonly_fields = ["author", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    def affected_project_ids(self, obj):
        return [obj.project_id]


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ["project", "from_colour", "to_colour", "at", "as_of", "headline"]
    list_filter = ["to_colour", "from_colour", "as_of"]
    search_fields = ["project__code", "project__name"]
    date_hierarchy = "at"
    list_select_related = ["project"]

    @admin.display(description=_("预警原因"))
    def headline(self, obj):
        return "；".join(render_reason(reason) for reason in obj.reasons)

    # Written only by the recompute: a record of what happened.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RecomputeRun)
class RecomputeRunAdmin(admin.ModelAdmin):
    """The spread recomputes (above RECOMPUTE_SPREAD_ABOVE projects): when, how far, what changed."""

    list_display = ["as_of", "started_at", "finished_at", "chunks", "chunks_done", "examined", "updated", "status_changes"]
    list_filter = ["as_of"]
    date_hierarchy = "started_at"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(done=Count("done_chunks"))

    @admin.display(description=_("已完成分片"), ordering="done")
    def chunks_done(self, obj):
        return obj.done

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# ---- Weekly digest: what was sent to whom, visible to the office ----

from .models import DigestDelivery, DigestPreference  # noqa: E402


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "week", "user", "email", "state", "interrupted", "attempts", "empty", "sent_at",
        "short_error",
    ]
    list_filter = ["state", "interrupted", "empty", "week"]
    search_fields = ["user__username", "user__last_name", "user__first_name", "email", "week", "message_id"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "user", "week", "email", "state", "message_id", "attempts", "claimed_at", "sent_at",
        "interrupted", "last_error", "subject", "empty", "created_at", "updated_at",
    ]

    @admin.display(description=_("最近错误"))
    def short_error(self, obj):
        return (obj.last_error or "")[:80]

    # Written only by the sender: a record of what happened, never edited by hand
    # (editing a state could send a digest twice).
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DigestPreference)
class DigestPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "enabled", "send_empty", "updated_at"]
    list_filter = ["enabled", "send_empty"]
    search_fields = ["user__username", "user__last_name", "user__first_name"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
