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

from qiantang.colours import Colour
# The date range is the kernel's; the first migrations name the validator by this module's path.
from qiantang.dates import validate_date_in_range
from qiantang_warnings.reasons import render_reason, urgency_key

from .codes import normalize_project_code, validate_project_code


def is_green_after_replan(colour: str, baseline_colour: str) -> bool:
    """调整后绿: green now, yellow or red against the first planned dates (基准日期)."""
    return colour == Colour.GREEN and baseline_colour in (Colour.YELLOW, Colour.RED)


# The same, as a query: active (only they are coloured), green, baseline yellow or red.
GREEN_AFTER_REPLAN = models.Q(
    state="active", colour=Colour.GREEN, baseline_colour__in=[Colour.YELLOW, Colour.RED]
)


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
    # The colour against the baselines (基准日期) and the approved re-plans: a project
    # green only because it was re-planned reads so (调整后绿). Written by the recompute.
    baseline_colour = models.CharField(
        _("基准预警等级"), max_length=6, choices=Colour.choices, blank=True
    )
    replan_count = models.PositiveIntegerField(_("已批准调整计划次数"), default=0)
    # The order of the dashboard's lists, from the reasons (qiantang_warnings.reasons.urgency_key):
    # most overdue first. Written by the recompute with the reasons.
    urgency = models.IntegerField(_("紧急程度排序"), default=2_000_000, editable=False)
    # The first day the stored result may stop holding with no input changed
    # (qiantang_warnings.rules.recheck_on; date.max: never): a full recompute leaves the
    # project alone before it. Empty: at the next recompute. Database triggers empty it with
    # every write of the project's own inputs: its columns, milestones, re-plans, coordination
    # items and escalations (migration warnings 0013). Written by the recompute.
    recheck_on = models.DateField(_("下次复核日期"), null=True, blank=True, editable=False)

    # The office's policy: editors may change a planned date without its approval.
    direct_replan_allowed = models.BooleanField(
        _("允许直接调整计划"),
        default=False,
        help_text=_("勾选后，有编辑权限的人员可直接修改本项目节点的计划完成日期，无需投资管理科审核"),
    )

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # Who changed what, when (django-simple-history). The stored warning result is
    # left out: the recompute writes it in bulk and StatusChange records its history.
    history = HistoricalRecords(
        excluded_fields=[
            "colour", "reasons", "needs_plan", "computed_as_of", "colour_changed_at",
            "baseline_colour", "replan_count", "urgency", "recheck_on", "created_at", "updated_at",
        ]
    )

    class Meta:
        verbose_name = _("重点项目")
        verbose_name_plural = _("重点项目")
        ordering = ["code"]
        # The dashboard's list of one colour, most urgent first, read from here.
        indexes = [models.Index(fields=["colour", "urgency", "code"], name="project_colour_urgency")]

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
        # The lists' order follows the reasons (bulk writers set it: the recompute does).
        self.urgency = urgency_key(self.reasons)
        if update_fields is not None and "reasons" in update_fields:
            kwargs["update_fields"] = {*update_fields, "urgency"}
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            # Every catalogue type is a milestone of every project, filled in or not.
            create_missing_milestones(Project, MilestoneType, Milestone, project_ids=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.state == self.State.ACTIVE

    @property
    def reason_texts(self) -> list[str]:
        return [render_reason(reason) for reason in self.reasons]

    @property
    def green_after_replan(self) -> bool:
        return is_green_after_replan(self.colour, self.baseline_colour)

    @property
    def baseline_colour_differs(self) -> bool:
        return bool(self.colour) and bool(self.baseline_colour) and self.baseline_colour != self.colour

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
    direct_replan_allowed = models.BooleanField(
        _("允许直接调整计划"),
        default=False,
        help_text=_("勾选后，有编辑权限的人员可直接修改此类节点的计划完成日期，无需投资管理科审核"),
    )

    class Meta:
        verbose_name = _("节点类型")
        verbose_name_plural = _("节点类型")
        ordering = ["order"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            # A type added to the catalogue applies to every project at once (the admin
            # then recomputes them all; beat would within 15 minutes).
            create_missing_milestones(Project, MilestoneType, Milestone, type_ids=[self.pk])


def create_missing_milestones(
    project_model, type_model, milestone_model, *, project_ids=None, type_ids=None
) -> int:
    """Create a blank milestone for every (project, type) pair without one; returns how many.

    The warning rules already count a type without a row as a blank milestone, so this is
    not what makes a colour right: it gives every project's page a row of every type to
    fill in. Takes the model classes so that the data migration can pass its own."""
    projects = project_model.objects.all()
    if project_ids is not None:
        projects = projects.filter(pk__in=project_ids)
    types = type_model.objects.all()
    if type_ids is not None:
        types = types.filter(pk__in=type_ids)
    type_pks = list(types.values_list("pk", flat=True))
    if not type_pks:
        return 0
    existing = set(
        milestone_model.objects.filter(project__in=projects, milestone_type_id__in=type_pks)
        .values_list("project_id", "milestone_type_id")
    )
    missing = [
        milestone_model(project_id=project_pk, milestone_type_id=type_pk)
        for project_pk in projects.values_list("pk", flat=True).iterator(chunk_size=2000)
        for type_pk in type_pks
        if (project_pk, type_pk) not in existing
    ]
    # ignore_conflicts: a row made meanwhile by an editor is the row; the unique
    # constraint (one_milestone_per_type) keeps it one.
    milestone_model.objects.bulk_create(missing, batch_size=2000, ignore_conflicts=True)
    return len(missing)


DONE_AND_NOT_APPLICABLE = _("已完成的节点不能标为不适用，请先清除实际完成日期")


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

    def clean(self):
        # Done or not applicable, never both: every way in (the staff form, the admin, the
        # service, the workbook import) refuses the pair with this one message.
        if self.actual_date is not None and self.not_applicable:
            raise ValidationError({"actual_date": DONE_AND_NOT_APPLICABLE})

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


class ReplanProposal(models.Model):
    """A proposed new planned date (调整计划申请), decided by the office.

    Until the office approves it, the milestone keeps its plan and its colour; an
    approval re-plans the milestone (a MilestoneReplan, baseline untouched).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    milestone = models.ForeignKey(
        Milestone, verbose_name=_("项目节点"), on_delete=models.CASCADE,
        related_name="replan_proposals",
    )
    # The plan the proposal would replace, as it stood when proposed (and, once
    # approved, the plan actually replaced), so a decided proposal reads old → new.
    previous_planned_date = models.DateField(_("原计划完成日期"), null=True, blank=True)
    proposed_planned_date = models.DateField(
        _("申请计划完成日期"), validators=[validate_date_in_range]
    )
    reason = models.TextField(_("调整原因"))
    document_number = models.CharField(_("文号"), max_length=100, blank=True)
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    state = models.CharField(
        _("审核状态"), max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审核人"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_comment = models.TextField(_("审核意见"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("调整计划申请")
        verbose_name_plural = _("调整计划申请")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["milestone"],
                condition=models.Q(state="pending"),
                name="one_pending_replan_proposal_per_milestone",
                violation_error_message=_("该节点已有待审核的调整计划申请"),
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(state="pending", decided_by__isnull=True, decided_at__isnull=True)
                    | (
                        models.Q(state__in=["approved", "rejected"])
                        & models.Q(decided_by__isnull=False, decided_at__isnull=False)
                    )
                ),
                name="replan_proposal_decided_with_who_and_when",
                violation_error_message=_("已审核的申请须记录审核人和审核时间"),
            ),
        ]

    def __str__(self):
        return f"{self.milestone}: → {self.proposed_planned_date} ({self.get_state_display()})"

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING

    @property
    def replaced_planned_date(self) -> date | None:
        """The plan the proposed date replaces: the milestone's plan now while pending,
        the plan it had when decided afterwards."""
        return self.milestone.planned_date if self.is_pending else self.previous_planned_date

    @property
    def days_moved(self) -> int | None:
        """Days the proposal moves the plan: positive later (推迟), negative earlier (提前)."""
        replaced = self.replaced_planned_date
        if replaced is None or self.proposed_planned_date is None:
            return None
        return (self.proposed_planned_date - replaced).days

    def clean(self):
        if not (self.reason or "").strip():
            raise ValidationError({"reason": _("请填写调整原因")})


class CoordinationItem(models.Model):
    """A problem a department is asked to solve by a deadline (协调事项): raised on a project by
    its cadre, its team or the office, answered by the department's liaisons, closed (销号) by
    whoever raised it. Every step is a CoordinationEvent; nothing is deleted.

    The flow: open → (answered →) handled → closed; handled or closed can be reopened with a
    comment, which sends the item back to the department."""

    class State(models.TextChoices):
        OPEN = "open", _("待答复")
        ANSWERED = "answered", _("已答复")
        HANDLED = "handled", _("已办结")
        CLOSED = "closed", _("已销号")

    OPEN_STATES = (State.OPEN, State.ANSWERED)  # waiting for the department

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="coordination_items"
    )
    milestone = models.ForeignKey(
        "Milestone", verbose_name=_("影响节点"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="coordination_items",
    )
    need = models.TextField(_("协调事项"))
    # Both blank only for an item the workbook's 存在问题 column brought in: the office assigns it.
    department = models.ForeignKey(
        Department, verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="coordination_items",
        null=True, blank=True,
    )
    deadline = models.DateField(_("办结时限"), validators=[validate_date_in_range], null=True, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN, db_index=True)
    reply = models.TextField(_("最近答复"), blank=True)
    handled_on = models.DateField(_("办结日期"), null=True, blank=True)
    raised_by = models.ForeignKey(  # blank: brought in by an import run without a user
        settings.AUTH_USER_MODEL, verbose_name=_("提出人"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    raised_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("协调事项")
        verbose_name_plural = _("协调事项")
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["department", "state", "deadline"])]

    def __str__(self):
        return f"{self.project.code} → {self.department}: {self.need[:30]}"

    @property
    def is_waiting_for_department(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def needs_assigning(self) -> bool:
        """From the workbook, not yet given a department and a deadline (待分派)."""
        return self.department_id is None and self.is_waiting_for_department

    def clean(self):
        if not (self.need or "").strip():
            raise ValidationError({"need": _("请填写需要协调解决的事项")})
        if self.milestone_id and self.milestone.project_id != self.project_id:
            raise ValidationError({"milestone": _("影响节点须是本项目的节点")})


class CoordinationEvent(models.Model):
    """One step of a coordination item, as it happened: raised, answered, handled, closed, reopened."""

    class Kind(models.TextChoices):
        RAISED = "raised", _("提出")
        ASSIGNED = "assigned", _("分派")
        ANSWERED = "answered", _("答复")
        HANDLED = "handled", _("办结")
        CLOSED = "closed", _("销号")
        REOPENED = "reopened", _("重新打开")

    item = models.ForeignKey(CoordinationItem, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    comment = models.TextField(_("说明"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("协调事项记录")
        verbose_name_plural = _("协调事项记录")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}" if self.at else str(self.get_kind_display())
