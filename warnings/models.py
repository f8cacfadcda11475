"""Warning policy, working-day calendar, escalations and status changes."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from projects.models import Colour, Project
from qiantang.dates import validate_date_in_range

from . import rules


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

    class Meta:
        verbose_name = _("重算批次")
        verbose_name_plural = _("重算批次")
        ordering = ["-started_at", "-id"]

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
