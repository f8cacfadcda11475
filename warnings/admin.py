"""Admin for policy, calendar, escalations and status changes.

Every save that can change a colour recomputes the affected projects in the
same request (and transaction), so nobody waits for beat.
"""
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from projects.admin import ALL_PROJECTS, ProjectAdmin, RecomputeOnSaveMixin, WrittenBySystemMixin
from qiantang import colours
from qiantang.clock import local_today
from qiantang.links import absolute_url

from .chat import delivery as chat_delivery
from .chat.outbox import test_notice
from .chat.push import push_soon
from .models import (
    CalendarDay,
    ChatNotice,
    ChatPost,
    ChatRobot,
    DigestDelivery,
    DigestPreference,
    Escalation,
    MobileNumber,
    RecomputeRun,
    ScreenLink,
    StatusChange,
    WarningPolicy,
)
from .reasons import render_reason
from .rules_context import uncovered_years_to_report


class LastErrorColumnMixin:
    """The list column with the start of `last_error`."""

    error_chars = 80

    @admin.display(description=_("最近错误"))
    def short_error(self, obj):
        return (obj.last_error or "")[: self.error_chars]


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
class StatusChangeAdmin(WrittenBySystemMixin, admin.ModelAdmin):
    list_display = ["project", "from_colour", "to_colour", "at", "as_of", "headline"]
    list_filter = ["to_colour", "from_colour", "as_of"]
    search_fields = ["project__code", "project__name"]
    date_hierarchy = "at"
    list_select_related = ["project"]

    @admin.display(description=_("预警原因"))
    def headline(self, obj):
        return "；".join(render_reason(reason) for reason in obj.reasons)

    # Written only by the recompute: a record of what happened.


@admin.register(RecomputeRun)
class RecomputeRunAdmin(WrittenBySystemMixin, admin.ModelAdmin):
    """The spread recomputes (above RECOMPUTE_SPREAD_ABOVE projects): when, how far, what changed."""

    list_display = ["as_of", "started_at", "finished_at", "due_only", "chunks", "chunks_done", "examined", "updated",
                    "status_changes"]
    list_filter = ["as_of", "due_only"]
    date_hierarchy = "started_at"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(done=Count("done_chunks"))

    @admin.display(description=_("已完成分片"), ordering="done")
    def chunks_done(self, obj):
        return obj.done


# ---- Weekly digest: what was sent to whom, visible to the office ----


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(WrittenBySystemMixin, LastErrorColumnMixin, admin.ModelAdmin):
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

    # Written only by the sender: a record of what happened, never edited by hand
    # (editing a state could send a digest twice): WrittenBySystemMixin.


@admin.register(DigestPreference)
class DigestPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "enabled", "send_empty", "updated_at"]
    list_filter = ["enabled", "send_empty"]
    search_fields = ["user__username", "user__last_name", "user__first_name"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]


# ---- Chat robots (群机器人): configured by the office, delivery state visible ----


@admin.register(ChatRobot)
class ChatRobotAdmin(LastErrorColumnMixin, admin.ModelAdmin):
    error_chars = 40  # the list has many columns
    list_display = ["name", "kind", "scope_target", "events", "enabled", "delivery_state", "last_success_at",
                    "waiting", "short_error"]
    list_filter = ["kind", "scope", "enabled", "refused"]
    search_fields = ["name", "department__name", "project__code", "project__name"]
    list_select_related = ["department", "project"]
    autocomplete_fields = ["project"]
    actions = ["send_test_message"]
    readonly_fields = ["refused", "paused_until", "last_success_at", "last_error_at", "last_error", "created_at",
                       "recent_answers"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "webhook_url", "secret", "enabled"]}),
        (_("范围"), {"fields": ["scope", "department", "project"]}),
        (_("推送的事件"), {"fields": ["notify_red", "notify_item_assigned", "notify_item_overdue", "notify_weekly"]}),
        (_("发送状态"), {"fields": ["refused", "paused_until", "last_success_at", "last_error_at", "last_error", "created_at",
                                   "recent_answers"]}),
    ]

    def get_queryset(self, request):
        waiting = Count("notices", filter=~Q(notices__state=ChatNotice.State.SENT))
        return super().get_queryset(request).annotate(waiting_count=waiting)

    @admin.display(description=_("范围"))
    def scope_target(self, obj):
        if obj.scope == ChatRobot.Scope.DEPARTMENT:
            return f"{obj.get_scope_display()}：{obj.department}"
        if obj.scope == ChatRobot.Scope.PROJECT:
            return f"{obj.get_scope_display()}：{obj.project.code}" if obj.project else obj.get_scope_display()
        return obj.get_scope_display()

    @admin.display(description=_("推送的事件"))
    def events(self, obj):
        names = [str(ChatRobot._meta.get_field(flag).verbose_name) for flag in
                 ("notify_red", "notify_item_assigned", "notify_item_overdue", "notify_weekly") if getattr(obj, flag)]
        return "、".join(names) or "—"

    @admin.display(description=_("状态"))
    def delivery_state(self, obj):
        if not obj.enabled:
            return _("已停用")
        if obj.refused:
            return format_html('<strong style="color:{}">{}</strong>', colours.ON_WHITE[colours.RED], _("被拒绝，待处理"))
        if obj.paused_until and obj.paused_until > timezone.now():
            return _("限流中，%(time)s后继续") % {"time": timezone.localtime(obj.paused_until).strftime("%H:%M")}
        if obj.last_success_at:
            return _("正常")
        return _("尚未发送")

    @admin.display(description=_("最近10次发送"))
    def recent_answers(self, obj):
        posts = ChatPost.objects.filter(robot=obj).order_by("-at", "-id")[:10] if obj.pk else []
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((timezone.localtime(p.at).strftime("%Y-%m-%d %H:%M:%S"), p.notices, _("成功") if p.ok else _("失败"),
              "" if p.errcode is None else p.errcode, p.errmsg) for p in posts),
        )
        if not rows:
            return _("尚无发送记录")
        head = format_html("<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
                           _("时间"), _("消息条数"), _("结果"), _("错误码"), _("返回说明"))
        return format_html("<table>{}{}</table>", head, rows)

    @admin.display(description=_("待发送"), ordering="waiting_count")
    def waiting(self, obj):
        return obj.waiting_count

    def save_model(self, request, obj, form, change):
        # A saved configuration is the office's answer to a refusal: send what was held.
        if change and obj.refused:
            obj.refused = False
            obj.last_error = ""
        super().save_model(request, obj, form, change)
        push_soon()

    @admin.action(description=_("发送测试消息"))
    def send_test_message(self, request, queryset):
        for robot in queryset:
            if not robot.enabled:
                self.message_user(request, _("“%(name)s”已停用，未发送") % {"name": robot}, messages.WARNING)
                continue
            with transaction.atomic():
                notice = test_notice(robot, now=timezone.now())
            report = chat_delivery.deliver(robot.pk, forced=True)
            notice.refresh_from_db()
            if notice.state == ChatNotice.State.SENT and report.sent > 1:
                self.message_user(request, _("“%(name)s”：测试消息已发送，请在群里查看（同时发出%(count)s条待发消息）")
                                  % {"name": robot, "count": report.sent - 1}, messages.SUCCESS)
            elif notice.state == ChatNotice.State.SENT:
                self.message_user(request, _("“%(name)s”：测试消息已发送，请在群里查看") % {"name": robot}, messages.SUCCESS)
            elif report.outcome == "busy":
                self.message_user(request, _("“%(name)s”正在发送其他消息，测试消息已排队") % {"name": robot}, messages.WARNING)
            else:
                self.message_user(request, _("“%(name)s”：%(detail)s") % {"name": robot, "detail": report.detail or report.outcome},
                                  messages.ERROR)


@admin.register(ChatNotice)
class ChatNoticeAdmin(WrittenBySystemMixin, LastErrorColumnMixin, admin.ModelAdmin):
    """What each group was told (or is waiting to be told): a record, never edited by hand."""

    list_display = ["title", "robot", "event", "state", "interrupted", "attempts", "event_at", "sent_at", "short_error"]
    list_filter = ["state", "event", "interrupted", "robot"]
    search_fields = ["title", "text", "project__code", "robot__name"]
    list_select_related = ["robot"]
    date_hierarchy = "created_at"
    readonly_fields = ["robot", "event", "event_key", "event_at", "project", "title", "text", "mobiles", "state",
                       "attempts", "next_attempt_at", "interrupted", "sent_at", "last_error", "created_at"]
    exclude = ["claim_token", "claimed_at"]


class MobileNumberInline(admin.StackedInline):
    model = MobileNumber
    can_delete = True
    extra = 0
    max_num = 1


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserWithMobileAdmin(UserAdmin):
    """Django's user admin with the mobile number used for @-mentions in group messages."""

    inlines = [*UserAdmin.inlines, MobileNumberInline]


# ---- Meeting-room screens (挂图作战): links the office makes and revokes ----


@admin.register(ScreenLink)
class ScreenLinkAdmin(admin.ModelAdmin):
    list_display = ["name", "cycle", "seconds", "active", "created_by", "created_at", "last_seen_at", "address"]
    list_filter = ["cycle"]
    search_fields = ["name"]
    actions = ["revoke"]
    fields = ["name", "cycle", "seconds", "address", "created_by", "created_at", "revoked_at", "last_seen_at"]
    readonly_fields = ["address", "created_by", "created_at", "revoked_at", "last_seen_at"]

    @admin.display(description=_("启用"), boolean=True)
    def active(self, obj):
        return obj.is_active

    @admin.display(description=_("大屏地址"))
    def address(self, obj):
        if not obj.pk:
            return _("保存后生成")
        if not obj.is_active:
            return _("已停用")
        url = absolute_url("screen", token=obj.token)
        return format_html('<a href="{}" target="_blank" rel="noreferrer">{}</a>', url, url)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description=_("停用所选大屏链接"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("已停用%(count)s个大屏链接：使用它们的大屏将在下次刷新时停止显示。") % {"count": count},
                          messages.SUCCESS)
