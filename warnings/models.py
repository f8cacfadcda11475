"""Warning policy, working-day calendar, escalations, status changes, digest and chat deliveries."""
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from projects.models import Colour, Project
from qiantang.dates import validate_date_in_range

from . import rules
from .chat.protocols import WebhookError, credential_of


class WarningPolicy(models.Model):
    """The single row of global warning rules (预警规则)."""

    SINGLETON_ID = 1

    yellow_before_days = models.PositiveIntegerField(
        _("临期黄灯提前天数"),
        null=True,
        blank=True,
        default=15,
        help_text=_("到期日前多少天内亮黄灯；留空则不设临期黄灯"),
    )
    red_after_days = models.PositiveIntegerField(
        _("逾期亮红灯天数"),
        default=0,
        help_text=_("逾期超过多少天亮红灯；逾期1至该天数之间亮黄灯"),
    )
    count_working_days = models.BooleanField(
        _("按工作日计算"),
        default=False,
        help_text=_("按国家法定节假日与调休计算天数，而非自然日"),
    )
    items_raise_colour = models.BooleanField(
        _("协调事项逾期时提高项目预警等级"),
        default=False,
        help_text=_("开启后，逾期未办结的协调事项像逾期节点一样使项目亮黄灯或红灯，预警原因写明事项和责任单位"),
    )
    # The escalation ladder (escalations/ladder.py): it suggests, the office decides.
    ladder_red_weeks = models.PositiveSmallIntegerField(
        _("连续红灯几周建议督办"), default=2, validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text=_("项目连续红灯满这么多周，列入投资管理科待处理清单并预填督办建议"),
    )
    ladder_talk_weeks = models.PositiveSmallIntegerField(
        _("督办后仍红灯几周建议约谈"), default=4, validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text=_("督办后仍为红灯满这么多周，建议约谈"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("预警规则")
        verbose_name_plural = _("预警规则")

    def __str__(self):
        return str(_("预警规则"))

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_ID
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "WarningPolicy":
        policy, _created = cls.objects.get_or_create(pk=cls.SINGLETON_ID)
        return policy

    def as_rules_policy(self) -> rules.Policy:
        return rules.Policy(
            yellow_before_days=self.yellow_before_days,
            red_after_days=self.red_after_days,
            count_working_days=self.count_working_days,
        )


class CalendarDay(models.Model):
    """A day the office enters or corrects: holiday or adjusted working day."""

    date = models.DateField(_("日期"), unique=True, validators=[validate_date_in_range])
    is_working_day = models.BooleanField(
        _("是否工作日"), help_text=_("勾选表示上班（含调休上班的周末），不勾选表示放假")
    )
    note = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {'上班' if self.is_working_day else '放假'}"


class Escalation(models.Model):
    """督办: raises a project's colour until a date; never lowers it."""

    class EscalatedColour(models.TextChoices):
        RED = Colour.RED.value, Colour.RED.label
        YELLOW = Colour.YELLOW.value, Colour.YELLOW.label

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="escalations"
    )
    colour = models.CharField(_("督办等级"), max_length=6, choices=EscalatedColour.choices)
    reason = models.TextField(_("督办原因"))
    until = models.DateField(_("督办截止日期"), validators=[validate_date_in_range])
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("督办人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("督办时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.project.code} {self.get_colour_display()} {self.until}"

    def clean(self):
        if not (self.reason or "").strip():
            raise ValidationError({"reason": _("督办须填写原因")})

    def as_facts(self) -> rules.EscalationFacts:
        return rules.EscalationFacts(colour=self.colour, reason=self.reason, until=self.until)


class StatusChange(models.Model):
    """One change of a project's colour, written by the recompute."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="status_changes"
    )
    from_colour = models.CharField(_("原等级"), max_length=6, choices=Colour.choices, blank=True)
    to_colour = models.CharField(_("新等级"), max_length=6, choices=Colour.choices, blank=True)
    at = models.DateTimeField(_("变化时间"), db_index=True)
    as_of = models.DateField(_("计算日期"))
    reasons = models.JSONField(_("预警原因"), default=list, blank=True)

    class Meta:
        verbose_name = _("状态变化")
        verbose_name_plural = _("状态变化")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["project", "-at"])]

    def __str__(self):
        return f"{self.project.code}: {self.from_colour or '—'} → {self.to_colour or '—'}"


class DigestPreference(models.Model):
    """A user's choices for the Monday digest (预警周报); no row means the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="digest_preference",
    )
    enabled = models.BooleanField(_("接收预警周报"), default=True)
    send_empty = models.BooleanField(
        _("无预警事项时也发送"), default=True, help_text=_("不勾选则“全部绿灯”的周报不发送")
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("周报设置")
        verbose_name_plural = _("周报设置")

    def __str__(self):
        return str(self.user)


class DigestDelivery(models.Model):
    """One digest to one recipient for one ISO week: the record that makes sending exactly-once.

    Created under the (user, week) constraint, claimed by a compare-and-set UPDATE on
    `state` before the SMTP conversation and marked sent after it (see digest/delivery.py).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        SKIPPED = "skipped", _("无需发送")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("收件人"),
        on_delete=models.CASCADE,
        related_name="digest_deliveries",
    )
    week = models.CharField(_("周次"), max_length=8, help_text=_("ISO周，如2026-W48"))
    email = models.EmailField(_("邮箱"), blank=True)
    state = models.CharField(
        _("状态"), max_length=8, choices=State.choices, default=State.PENDING, db_index=True
    )
    message_id = models.CharField(_("Message-ID"), max_length=200)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    claimed_at = models.DateTimeField(_("认领时间"), null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    interrupted = models.BooleanField(
        _("中断后重发"),
        default=False,
        help_text=_("上次发送中断（如进程被终止），已用同一Message-ID重发；收件人可能收到两份相同邮件"),
    )
    last_error = models.TextField(_("最近错误"), blank=True)
    subject = models.CharField(_("主题"), max_length=200, blank=True)
    empty = models.BooleanField(_("全部绿灯"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("周报发送记录")
        verbose_name_plural = _("周报发送记录")
        ordering = ["-week", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "week"], name="one_digest_per_user_and_week"),
        ]

    def __str__(self):
        return f"{self.week} {self.user}"


class RecomputeRun(models.Model):
    """One full recompute spread over the Celery workers in chunks of projects (重算批次).

    Each chunk is one transaction, recorded by a RecomputeChunk when it commits: a worker
    killed mid-chunk leaves that chunk as it was (its task is redelivered, or the next run
    does it), a chunk delivered twice is done once, and the run is finished when every chunk
    has its record."""

    as_of = models.DateField(_("计算日期"))
    started_at = models.DateTimeField(_("开始时间"), db_index=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    chunks = models.PositiveIntegerField(_("分片数"))
    examined = models.PositiveIntegerField(_("检查项目数"), default=0)
    updated = models.PositiveIntegerField(_("更新项目数"), default=0)
    status_changes = models.PositiveIntegerField(_("状态变化数"), default=0)
    # The inputs version and the rules' code as the run began from them (recompute.inputs_stamp):
    # a full recompute of the same day that finds both unchanged has nothing to do.
    inputs = models.CharField(_("输入版本"), max_length=80, blank=True, default="")
    # The inputs every project shares and the rules' code (recompute.shared_inputs_stamp): a
    # later run that finds them unchanged evaluates only the projects whose recheck day has
    # come or whose own inputs were written (Project.recheck_on).
    shared_inputs = models.CharField(_("共用输入版本"), max_length=80, blank=True, default="")
    # Whether the run evaluated only the projects due a recheck (their own inputs written, or
    # their recheck day come), the shared inputs being as the last run left them.
    due_only = models.BooleanField(_("仅复核到期项目"), default=False)

    class Meta:
        verbose_name = _("重算批次")
        verbose_name_plural = _("重算批次")
        ordering = ["-started_at", "-id"]

    @classmethod
    def finished_latest_first(cls):
        """The finished runs, the latest first: the board's results hold as of the first."""
        return cls.objects.filter(finished_at__isnull=False).order_by("-started_at", "-id")

    def __str__(self):
        return f"{self.as_of} ({self.started_at:%Y-%m-%d %H:%M})"


class RecomputeChunk(models.Model):
    """A chunk of a RecomputeRun that has committed."""

    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="done_chunks")
    index = models.PositiveIntegerField()
    examined = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    status_changes = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="one_record_per_chunk")]


# ---------------------------------------------------------------- chat robots (群机器人)

class ChatRobot(models.Model):
    """A DingTalk (钉钉/浙政钉) or WeCom (企业微信) group robot the office set up, for the whole
    district, one department or one project's team, with the events its group wants.

    The webhook URL carries the robot's credential (`access_token` or `key`); the host the
    messages go to is a setting (CHAT_DINGTALK_HOST, CHAT_WECOM_HOST), so a government
    deployment can point every robot at its own gateway. See chat/ for the delivery."""

    class Kind(models.TextChoices):
        DINGTALK = "dingtalk", _("钉钉/浙政钉自定义机器人")
        WECOM = "wecom", _("企业微信群机器人")

    class Scope(models.TextChoices):
        DISTRICT = "district", _("全区")
        DEPARTMENT = "department", _("责任单位")
        PROJECT = "project", _("项目专班")

    name = models.CharField(_("名称"), max_length=100, help_text=_("如：钱塘区重大项目推进群"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    webhook_url = models.CharField(
        _("Webhook地址"), max_length=500,
        help_text=_("从群机器人设置中复制的完整地址，钉钉含access_token，企业微信含key"),
    )
    secret = models.CharField(
        _("加签密钥"), max_length=200, blank=True,
        help_text=_("钉钉机器人安全设置选择“加签”时的密钥（SEC开头）；企业微信留空"),
    )
    scope = models.CharField(_("范围"), max_length=10, choices=Scope.choices, default=Scope.DISTRICT)
    department = models.ForeignKey(
        "projects.Department", verbose_name=_("责任单位"), on_delete=models.CASCADE,
        null=True, blank=True, related_name="chat_robots",
        help_text=_("范围为责任单位时填写：推送其牵头项目和交办给它的协调事项"),
    )
    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="chat_robots", help_text=_("范围为项目专班时填写"),
    )
    notify_red = models.BooleanField(_("项目转为红灯"), default=True)
    notify_item_assigned = models.BooleanField(_("协调事项交办"), default=True)
    notify_item_overdue = models.BooleanField(_("协调事项逾期"), default=True)
    notify_weekly = models.BooleanField(_("每周一08:30周报摘要"), default=True)
    enabled = models.BooleanField(_("启用"), default=True)
    # Kept by the delivery (chat/delivery.py), shown in the admin.
    paused_until = models.DateTimeField(_("限流暂停至"), null=True, blank=True)
    refused = models.BooleanField(
        _("配置被拒绝"), default=False,
        help_text=_("机器人拒绝了消息（签名、关键词、IP或地址错误）：消息保留待发，修改配置保存后自动重发"),
    )
    last_success_at = models.DateTimeField(_("最近成功"), null=True, blank=True)
    last_error_at = models.DateTimeField(_("最近错误时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    leased_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("群机器人")
        verbose_name_plural = _("群机器人")
        ordering = ["scope", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope="district", department__isnull=True, project__isnull=True)
                    | models.Q(scope="department", department__isnull=False, project__isnull=True)
                    | models.Q(scope="project", department__isnull=True, project__isnull=False)
                ),
                name="chat_robot_scope_matches_its_target",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        try:
            credential_of(self.kind, self.webhook_url)
        except WebhookError as error:
            errors["webhook_url"] = str(error)
        if self.kind == self.Kind.WECOM and self.secret:
            errors["secret"] = _("企业微信群机器人没有加签密钥，请留空")
        if self.scope == self.Scope.DEPARTMENT and not self.department_id:
            errors["department"] = _("范围为责任单位时请选择责任单位")
        if self.scope == self.Scope.PROJECT and not self.project_id:
            errors["project"] = _("范围为项目专班时请选择项目")
        if self.scope != self.Scope.DEPARTMENT:
            self.department = None
        if self.scope != self.Scope.PROJECT:
            self.project = None
        if errors:
            raise ValidationError(errors)


class ChatNotice(models.Model):
    """One event for one robot (the outbox): created once under the (robot, event_key)
    constraint, claimed by the robot's sender by compare-and-set, marked sent when the robot
    answered errcode 0. Kept, so the admin shows what each group was told and when."""

    class Event(models.TextChoices):
        RED = "red", _("项目转为红灯")
        ITEM_ASSIGNED = "item_assigned", _("协调事项交办")
        ITEM_OVERDUE = "item_overdue", _("协调事项逾期")
        WEEKLY = "weekly", _("周报摘要")
        TEST = "test", _("测试消息")

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败，稍后重试")

    robot = models.ForeignKey(ChatRobot, verbose_name=_("群机器人"), on_delete=models.CASCADE, related_name="notices")
    event = models.CharField(_("事件"), max_length=16, choices=Event.choices)
    event_key = models.CharField(_("事件标识"), max_length=100)
    event_at = models.DateTimeField(_("事件时间"))
    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    title = models.CharField(_("标题"), max_length=200)
    text = models.TextField(_("内容（Markdown）"))
    mobiles = models.JSONField(_("@手机号"), default=list, blank=True)
    state = models.CharField(_("状态"), max_length=8, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    interrupted = models.BooleanField(
        _("中断后重发"), default=False,
        help_text=_("上次发送中断（如进程被终止），已重发；群里可能看到两次"),
    )
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("群消息")
        verbose_name_plural = _("群消息")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["robot", "event_key"], name="one_notice_per_robot_and_event"),
        ]
        indexes = [models.Index(fields=["robot", "state"])]

    def __str__(self):
        return self.title


class ChatPost(models.Model):
    """One HTTP message to a robot (one or several notices merged): the record that keeps
    each robot under its rate limit and tells the office what the robot answered."""

    robot = models.ForeignKey(ChatRobot, verbose_name=_("群机器人"), on_delete=models.CASCADE, related_name="posts")
    at = models.DateTimeField(_("时间"), db_index=True)
    notices = models.PositiveSmallIntegerField(_("消息条数"), default=0)
    ok = models.BooleanField(_("成功"), default=False)
    errcode = models.IntegerField(_("错误码"), null=True, blank=True)
    errmsg = models.CharField(_("返回说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("群机器人发送记录")
        verbose_name_plural = _("群机器人发送记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["robot", "at"])]

    def __str__(self):
        return f"{self.robot} {self.at:%Y-%m-%d %H:%M}"


class MobileNumber(models.Model):
    """A user's mobile number, used only to @-mention them in a group robot's message."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="mobile_number"
    )
    mobile = models.CharField(
        _("手机号"), max_length=11, unique=True,
        validators=[RegexValidator(r"^1\d{10}$", _("请输入11位手机号，如13800001111"))],
        help_text=_("群机器人消息中@此人时使用（须与其钉钉/企业微信绑定的手机号一致）"),
    )

    class Meta:
        verbose_name = _("手机号")
        verbose_name_plural = _("手机号")

    def __str__(self):
        return self.mobile


# ---------------------------------------------------------------- the monthly ledger (月度台账)

class Ledger(models.Model):
    """A frozen 三色预警表: every project's colour, reasons, baseline colour, milestone dates and
    open coordination items as they stood, kept unchanged whatever is edited later. One per
    month, frozen at the month's end (Asia/Shanghai) by beat, exactly once; and snapshots the
    office freezes by hand (before a meeting, say)."""

    class Kind(models.TextChoices):
        MONTH = "month", _("月度台账")
        SNAPSHOT = "snapshot", _("快照")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    month = models.DateField(_("月份"), null=True, blank=True, help_text=_("月度台账：当月1日"))
    name = models.CharField(_("名称"), max_length=100)
    as_of = models.DateField(_("预警计算日期"))
    frozen_at = models.DateTimeField(_("冻结时间"), db_index=True)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("冻结人"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    milestone_types = models.JSONField(_("节点类型"), default=list)  # [[code, name], …] as they were
    counts = models.JSONField(_("各等级项目数"), default=dict)
    # What the rankings (红黑榜) read besides the rows, as it stood at the freeze:
    # {"departments": [[id, name, kind], …], "items": [[department_id, deadline, first answer or None], …]}.
    ranking_facts = models.JSONField(_("红黑榜依据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("台账")
        verbose_name_plural = _("台账")
        ordering = ["-frozen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["month"], condition=models.Q(kind="month"), name="one_ledger_per_month"),
            models.CheckConstraint(
                condition=models.Q(kind="month", month__isnull=False) | models.Q(kind="snapshot", month__isnull=True),
                name="a_monthly_ledger_has_its_month",
            ),
        ]

    def __str__(self):
        return self.name


class LedgerRow(models.Model):
    """One project in a ledger: the sheet's row as frozen (`data`, what render_workbook reads),
    with the columns the ledger page filters on."""

    ledger = models.ForeignKey(Ledger, on_delete=models.CASCADE, related_name="rows")
    project = models.ForeignKey(Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    code = models.CharField(_("项目编号"), max_length=40)
    name = models.CharField(_("项目名称"), max_length=200)
    sector = models.CharField(_("产业类别"), max_length=50, blank=True)
    lead_department_id = models.IntegerField(null=True, blank=True)
    responsible_cadre_id = models.IntegerField(null=True, blank=True)
    level = models.CharField(_("项目级别"), max_length=20, blank=True)
    state = models.CharField(_("项目状态"), max_length=12, blank=True)
    colour = models.CharField(_("预警等级"), max_length=6, choices=Colour.choices, blank=True)
    data = models.JSONField()

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["ledger", "code"], name="one_row_per_project_and_ledger")]
        indexes = [models.Index(fields=["ledger", "colour"])]

    def __str__(self):
        return f"{self.ledger} {self.code}"


# ---------------------------------------------------------------- the meeting-room screen (挂图作战)

def new_screen_token() -> str:
    return secrets.token_urlsafe(32)


class ScreenLink(models.Model):
    """A link that opens the read-only dashboard on a shared screen (挂图作战) without a
    personal login: made by the office, working until revoked. It shows the district as a
    leader sees it, nothing more, cycling through sectors or lead departments if asked."""

    class Cycle(models.TextChoices):
        NONE = "none", _("只显示全区")
        SECTOR = "sector", _("全区与各产业类别轮播")
        DEPARTMENT = "department", _("全区与各牵头单位轮播")

    name = models.CharField(_("名称"), max_length=100, help_text=_("如：三楼会议室大屏"))
    token = models.CharField(max_length=64, unique=True, default=new_screen_token, editable=False)
    cycle = models.CharField(_("轮播"), max_length=12, choices=Cycle.choices, default=Cycle.SECTOR)
    seconds = models.PositiveSmallIntegerField(
        _("每屏停留秒数"), default=20, validators=[MinValueValidator(5), MaxValueValidator(600)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("最近访问"), null=True, blank=True)

    class Meta:
        verbose_name = _("大屏链接")
        verbose_name_plural = _("大屏链接")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# ---------------------------------------------------------------- the escalation ladder

class LadderSuggestion(models.Model):
    """A step the ladder suggests for a project that stays red: 督办 after the policy's weeks
    of red, 约谈 when still red weeks after the 督办. One per (project, step, red episode);
    the office accepts or dismisses it with a reason. The ladder never acts by itself."""

    class Step(models.TextChoices):
        ESCALATE = "escalate", _("督办")
        TALK = "talk", _("约谈")

    class State(models.TextChoices):
        OPEN = "open", _("待处理")
        ACCEPTED = "accepted", _("已采纳")
        DISMISSED = "dismissed", _("不采纳")

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="ladder_suggestions")
    step = models.CharField(_("建议"), max_length=10, choices=Step.choices)
    red_since = models.DateField(_("红灯起始日"))
    weeks_red = models.PositiveSmallIntegerField(_("已连续红灯周数"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN, db_index=True)
    suggested_on = models.DateField(_("建议日期"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("处理人"), on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    comment = models.TextField(_("处理说明"), blank=True)
    escalation = models.ForeignKey(Escalation, verbose_name=_("督办"), on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")

    class Meta:
        verbose_name = _("升级建议")
        verbose_name_plural = _("升级建议")
        ordering = ["state", "-weeks_red", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "step", "red_since"], name="one_suggestion_per_step_and_red_spell"),
        ]

    def __str__(self):
        return f"{self.project.code} {self.get_step_display()}"


class Talk(models.Model):
    """约谈: a formal talk about a project that stays red — when, who met whom, what was
    agreed, and when to follow up."""

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="talks")
    held_on = models.DateField(_("约谈日期"), validators=[validate_date_in_range])
    participants = models.CharField(_("约谈对象与参加人"), max_length=300)
    agreed = models.TextField(_("约谈议定事项"))
    follow_up_on = models.DateField(_("跟进日期"), validators=[validate_date_in_range])
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("约谈")
        verbose_name_plural = _("约谈")
        ordering = ["-held_on", "-id"]

    def __str__(self):
        return f"{self.project.code} {self.held_on}"

    def clean(self):
        if self.held_on and self.follow_up_on and self.follow_up_on < self.held_on:
            raise ValidationError({"follow_up_on": _("跟进日期不能早于约谈日期")})


# ---------------------------------------------------------------- versions moved by triggers


class ShardedCounter(models.Model):
    """A counter kept in a few rows (shards) that database triggers bump in the writing
    transaction itself, so no code path can forget it and the new value is visible exactly
    when the data is; concurrent writers bump different shards and rarely wait. Its value is
    the sum of the shards."""

    shard = models.PositiveSmallIntegerField(primary_key=True)
    value = models.BigIntegerField(default=0)

    @classmethod
    def current(cls) -> int:
        """The version now: the sum of the shards (one query)."""
        return cls.objects.aggregate(total=models.Sum("value"))["total"] or 0

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.shard}: {self.value}"


class DataVersion(ShardedCounter):
    """Moves whenever anything the dashboard shows is written: a project, a coordination
    item, a department, a status change or an escalation (triggers of migration 0010), and
    whatever else the rules read: a milestone, a re-plan, a milestone type, the policy, a
    calendar day (migration 0011). Cached dashboard data and the poll's stamp are keyed by
    it (dashboard/fingerprint.py)."""

    class Meta:
        verbose_name = _("数据版本")
        verbose_name_plural = _("数据版本")


class InputsVersion(ShardedCounter):
    """Moves whenever something the rules read is written (migration 0012): a milestone, a
    re-plan, a milestone type, the policy, a calendar day, a coordination item, a department,
    an escalation, and a project's own columns — but not the results the recompute writes
    into a project row (`recompute.RESULT_FIELDS`) nor its status changes. So a recompute's
    own writes leave it where it was, and a full recompute of the same day that finds it (and
    the rules' code) unchanged knows every stored result still holds (`inputs_stamp`)."""

    class Meta:
        verbose_name = _("规则输入版本")
        verbose_name_plural = _("规则输入版本")


class SharedInputsVersion(ShardedCounter):
    """Moves whenever an input every project shares is written (migration 0013): a milestone
    type, the policy, a calendar day, a department (its name is in item reasons). Each
    project's own inputs are watched per project instead (Project.recheck_on), so a full
    recompute that finds this version (and the rules' code) as the last run left it evaluates
    only the projects that need it."""

    class Meta:
        verbose_name = _("共用规则输入版本")
        verbose_name_plural = _("共用规则输入版本")
