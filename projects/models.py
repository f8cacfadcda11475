"""Departments, projects, milestone types and milestones.

A project stores the result of the warning rules (colour, reasons,
needs_plan, as-of date); only `qiantang_warnings.recompute` writes it.
"""
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .codes import normalize_project_code, validate_project_code

EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)


def validate_date_in_range(value):
    if value is not None and not (EARLIEST_DATE <= value <= LATEST_DATE):
        raise ValidationError(
            _("日期须在2000-01-01至2099-12-31之间"), code="date_out_of_range"
        )


class Colour(models.TextChoices):
    RED = "red", _("红")
    YELLOW = "yellow", _("黄")
    GREEN = "green", _("绿")


class Department(models.Model):
    class Kind(models.TextChoices):
        BUREAU = "bureau", _("部门")
        STREET = "street", _("街道")

    name = models.CharField(_("名称"), max_length=100, unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.BUREAU)
    liaisons = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("部门联络员"),
        related_name="liaison_departments",
        blank=True,
    )

    class Meta:
        verbose_name = _("责任单位")
        verbose_name_plural = _("责任单位")
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name


class Project(models.Model):
    class Level(models.TextChoices):
        PROVINCIAL = "provincial", _("省重点")
        MUNICIPAL = "municipal", _("市重点")
        DISTRICT = "district", _("区重点")

    class State(models.TextChoices):
        ACTIVE = "active", _("推进中")
        PAUSED = "paused", _("暂缓")
        COMPLETED = "completed", _("已完成")
        TERMINATED = "terminated", _("终止")

    code = models.CharField(
        _("项目编号"), max_length=40, unique=True, validators=[validate_project_code]
    )
    name = models.CharField(_("项目名称"), max_length=200)
    sector = models.CharField(_("产业类别"), max_length=50, blank=True, db_index=True)
    level = models.CharField(
        _("项目级别"), max_length=12, choices=Level.choices, default=Level.DISTRICT
    )
    total_investment = models.DecimalField(
        _("总投资(亿元)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("牵头单位"),
        on_delete=models.PROTECT,
        related_name="led_projects",
        null=True,
        blank=True,
    )
    responsible_cadre = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任干部"),
        on_delete=models.PROTECT,
        related_name="responsible_projects",
        null=True,
        blank=True,
    )
    team = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("工作专班"),
        related_name="team_projects",
        blank=True,
    )
    state = models.CharField(
        _("项目状态"), max_length=12, choices=State.choices, default=State.ACTIVE, db_index=True
    )
    progress_note = models.TextField(_("进展情况"), blank=True)
    open_problems = models.TextField(_("存在问题"), blank=True)

    # The stored result of the warning rules, written by the recompute service.
    colour = models.CharField(
        _("预警等级"), max_length=6, choices=Colour.choices, blank=True, db_index=True
    )
    reasons = models.JSONField(_("预警原因"), default=list, blank=True)
    needs_plan = models.BooleanField(_("待排期"), default=False)
    computed_as_of = models.DateField(_("预警计算日期"), null=True, blank=True)
    colour_changed_at = models.DateTimeField(_("预警等级变化时间"), null=True, blank=True)

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # Who changed what, when (django-simple-history). The stored warning result is
    # left out: the recompute writes it in bulk and StatusChange records its history.
    history = HistoricalRecords(
        excluded_fields=[
            "colour", "reasons", "needs_plan", "computed_as_of", "colour_changed_at",
            "created_at", "updated_at",
        ]
    )

    class Meta:
        verbose_name = _("重点项目")
        verbose_name_plural = _("重点项目")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean_fields(self, exclude=None):
        # Normalised before the field checks, so a form's uniqueness check compares
        # the code that will be stored (qt-0001 finds the stored QT-0001).
        self.code = normalize_project_code(self.code)
        super().clean_fields(exclude=exclude)

    def save(self, *args, **kwargs):
        # Every entrance goes through here (admin, shell, factories): the code is
        # stored in its one spelling, and a code that would break the project's URLs
        # is refused. Writers that bypass save() (bulk_create) use codes.clean_project_code.
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "code" in update_fields:
            self.code = normalize_project_code(self.code)
            try:
                validate_project_code(self.code)
            except ValidationError as error:
                raise ValidationError({"code": error.error_list}) from None
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.state == self.State.ACTIVE

    @property
    def reason_texts(self) -> list[str]:
        from qiantang_warnings.reasons import render_reason

        return [render_reason(reason) for reason in self.reasons]

    @property
    def headline_reason(self) -> str:
        texts = self.reason_texts
        return texts[0] if texts else ""


class MilestoneType(models.Model):
    """One step of the lifecycle (节点类型), with optional policy overrides."""

    order = models.PositiveSmallIntegerField(_("顺序"), unique=True)
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("节点名称"), max_length=50, unique=True)
    standard_days = models.PositiveIntegerField(
        _("标准时限(天)"),
        null=True,
        blank=True,
        help_text=_("上一个适用节点完成后多少天内应完成；留空表示无标准时限"),
    )
    yellow_before_days = models.PositiveIntegerField(
        _("黄灯提前天数(覆盖)"),
        null=True,
        blank=True,
        help_text=_("留空则沿用全局预警规则"),
    )
    yellow_window_disabled = models.BooleanField(
        _("本节点不亮临期黄灯"), default=False
    )
    red_after_days = models.PositiveIntegerField(
        _("逾期亮红灯天数(覆盖)"),
        null=True,
        blank=True,
        help_text=_("留空则沿用全局预警规则"),
    )
    count_working_days = models.BooleanField(
        _("按工作日计算(覆盖)"),
        null=True,
        blank=True,
        help_text=_("留空则沿用全局预警规则"),
    )

    class Meta:
        verbose_name = _("节点类型")
        verbose_name_plural = _("节点类型")
        ordering = ["order"]

    def __str__(self):
        return self.name


class Milestone(models.Model):
    """One (project, milestone type): 项目节点."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="milestones"
    )
    milestone_type = models.ForeignKey(
        MilestoneType,
        verbose_name=_("节点类型"),
        on_delete=models.PROTECT,
        related_name="milestones",
    )
    planned_date = models.DateField(
        _("计划完成日期"), null=True, blank=True, validators=[validate_date_in_range]
    )
    baseline_date = models.DateField(
        _("基准日期"), null=True, blank=True, validators=[validate_date_in_range]
    )
    actual_date = models.DateField(
        _("实际完成日期"), null=True, blank=True, validators=[validate_date_in_range]
    )
    not_applicable = models.BooleanField(_("不适用"), default=False)
    owner_department = models.ForeignKey(
        Department,
        verbose_name=_("责任单位"),
        on_delete=models.PROTECT,
        related_name="owned_milestones",
        null=True,
        blank=True,
    )
    # Also the version an edit form carries, so a second editor's stale save is refused.
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("项目节点")
        verbose_name_plural = _("项目节点")
        ordering = ["project", "milestone_type__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "milestone_type"], name="one_milestone_per_type"
            ),
        ]

    def __str__(self):
        return f"{self.project.code} {self.milestone_type.name}"

    def clean_against(self, *, today: date, previous_planned_date: date | None, replan_reason: str):
        """Check the refusals of the warning rules; raise ValidationError."""
        errors = {}
        if self.actual_date is not None and self.actual_date > today:
            errors["actual_date"] = _("实际完成日期不能晚于今天")
        if (
            previous_planned_date is not None
            and self.planned_date != previous_planned_date
            and not replan_reason.strip()
        ):
            errors["replan_reason"] = _("调整已有的计划完成日期须填写调整原因")
        if errors:
            raise ValidationError(errors)


class MilestoneReplan(models.Model):
    """A change of a planned date (调整计划), kept forever with its reason."""

    milestone = models.ForeignKey(
        Milestone, verbose_name=_("项目节点"), on_delete=models.CASCADE, related_name="replans"
    )
    old_planned_date = models.DateField(_("原计划日期"), null=True, blank=True)
    new_planned_date = models.DateField(_("新计划日期"), null=True, blank=True)
    reason = models.TextField(_("调整原因"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("调整人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("调整时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("计划调整")
        verbose_name_plural = _("计划调整")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.milestone}: {self.old_planned_date} → {self.new_planned_date}"


class ProgressEntry(models.Model):
    """One dated save of a project's progress note or open problems (进展情况 / 存在问题).

    The project keeps the current text; the entries let its story be read back.
    """

    class Kind(models.TextChoices):
        PROGRESS = "progress", _("进展情况")
        PROBLEMS = "problems", _("存在问题")

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="progress_entries"
    )
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    text = models.TextField(_("内容"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填写人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("填写时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("进展记录")
        verbose_name_plural = _("进展记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "kind", "-created_at"])]

    def __str__(self):
        return f"{self.project.code} {self.get_kind_display()} {self.created_at:%Y-%m-%d}"


class LoginFailure(models.Model):
    """A failed sign-in, counted to throttle password guessing (kept in the database,
    so every web process sees the same count)."""

    username = models.CharField(_("用户名"), max_length=150, db_index=True)
    ip_address = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("登录失败记录")
        verbose_name_plural = _("登录失败记录")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"
