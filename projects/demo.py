"""Demo data (演示数据): realistic projects, milestones and accounts for a first look.

Deterministic for a given seed and `today`: every date is placed relative to
`today` so that, after the recompute, the board shows a believable mix of
red, yellow and green. The plan is built in memory first, then written in bulk.
"""
from __future__ import annotations

import math
import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from qiantang_warnings.services import escalations_bulk_create, recompute_all

from .codes import clean_project_code
from .models import (
    Department,
    Milestone,
    MilestoneReplan,
    MilestoneType,
    Project,
    create_missing_milestones,
)
from .roles import CADRE, LEADER, LIAISON, OFFICE, ROLE_NAMES, ensure_role_groups

DEFAULT_PROJECTS = 260
DEFAULT_CADRES = 12
DEFAULT_SEED = 2026
EMAIL_DOMAIN = "qiantang.example"

BUREAUS = [
    "区发改局", "区经信局", "区科技局", "区住建局", "区商务局", "区投资促进局",
    "规划资源钱塘分局", "生态环境钱塘分局",
]
STREETS = ["白杨街道", "下沙街道", "河庄街道", "义蓬街道", "新湾街道", "临江街道", "前进街道"]
STREET = "street"  # owner placeholder: the project's own street (属地街道)

# Who owns each step of the default catalogue (parallel approvals by bureau).
OWNER_BY_TYPE = {
    "approval": "区发改局",
    "signing": "区投资促进局",
    "land_listing": "规划资源钱塘分局",
    "land_transfer": "规划资源钱塘分局",
    "planning_permit": "规划资源钱塘分局",
    "construction_permit": "区住建局",
    "groundbreaking": STREET,
    "completion": "区住建局",
    "production": "区经信局",
}
LAND_TYPES = ("land_listing", "land_transfer")

# How often a project's first pending milestone is each type: many under construction.
FIRST_PENDING_WEIGHT = {
    "approval": 5, "signing": 8, "land_listing": 10, "land_transfer": 8, "planning_permit": 11,
    "construction_permit": 11, "groundbreaking": 12, "completion": 22, "production": 10,
}

# sector: (weight, company words, product templates, bureau that usually leads)
SECTORS = {
    "汽车及零部件": (16, ["汽车", "动力", "智行"], [
        "年产{n}万台新能源汽车整车项目", "年产{n}万套新能源汽车电驱系统项目",
        "年产{g}GWh动力电池项目", "汽车一体化压铸车身件生产项目", "智能座舱零部件生产基地项目",
        "新能源汽车热管理系统项目",
    ], "区经信局"),
    "生物医药": (16, ["生物", "医药", "药业", "医疗"], [
        "创新药研发及产业化基地", "生物药CDMO平台项目", "高端医疗器械生产基地项目",
        "mRNA疫苗产业化项目", "细胞与基因治疗产业化项目", "体外诊断试剂生产项目",
    ], "区投资促进局"),
    "集成电路": (13, ["半导体", "微电子", "芯片"], [
        "12英寸晶圆制造项目", "功率半导体模块封测项目", "碳化硅衬底及外延片项目",
        "集成电路先进封装测试项目", "MEMS传感器生产线项目", "半导体设备核心零部件项目",
    ], "区经信局"),
    "人工智能": (11, ["智能", "数据", "信息"], [
        "人工智能算力中心项目", "大模型研发及应用总部项目", "AI视觉芯片研发中心项目",
        "工业互联网平台及数据中心项目", "智能网联测试基地项目",
    ], "区科技局"),
    "具身智能": (9, ["机器人", "智能装备", "智控"], [
        "人形机器人研发制造基地", "年产{k}万台服务机器人项目", "工业机器人核心部件项目",
        "具身智能创新中心项目", "精密减速器及伺服电机生产项目",
    ], "区科技局"),
    "新材料": (12, ["新材料", "材料", "化学"], [
        "年产{t}万吨高性能膜材料项目", "电子级化学品生产项目", "碳纤维复合材料项目",
        "高端聚酰亚胺薄膜项目", "锂电池隔膜生产项目",
    ], "区经信局"),
    "航空航天": (7, ["航空", "航天", "空天"], [
        "卫星智能制造基地项目", "航空发动机零部件项目", "工业级无人机研发制造基地",
        "商业航天火箭总装测试项目", "通用航空器制造项目",
    ], "区投资促进局"),
    "现代服务业": (16, ["科技", "数智", "供应链", "发展"], [
        "区域总部大楼项目", "科创园区项目", "跨境电商产业园项目", "数字物流中心项目",
        "研发中心及区域总部项目", "人才社区配套项目",
    ], "区商务局"),
}
BRAND_FIRST = "钱潮江湾沙塘澜汀屿津舟澄"
BRAND_SECOND = "芯驰源拓泰创维矽康航睿衡宇晟"

# Share of all projects per outcome; green takes what is left.
QUOTAS = {
    "completed": 0.06, "paused": 0.04, "terminated": 0.02,
    "red": 0.19, "yellow": 0.18, "needs_plan": 0.03,
}

REPLAN_REASONS = [
    "受地块征迁进度影响，调整计划完成日期。",
    "企业调整建设方案，相应顺延。",
    "根据区重大项目协调会意见调整。",
    "施工图设计变更，顺延计划。",
    "受汛期及高温天气影响，调整施工计划。",
    "企业融资安排调整，经专班研究同意顺延。",
]
ESCALATION_REASONS = [
    "列入区委区政府重点督办事项，要求月底前取得明确进展。",
    "企业反映审批进度滞后，区领导批示督办。",
    "节点已多次调整，纳入月度专项督办。",
    "涉及省重点项目年度考核，提级督办。",
]
PROBLEMS_BY_TYPE = {
    "approval": ["项目评审材料尚需补充完善。"],
    "signing": ["投资协议部分条款尚在协商。", "企业总部决策流程较长，签约时间未定。"],
    "land_listing": ["地块征迁尚未完成，影响土地挂牌。", "用地规划指标需调整，待规划资源钱塘分局审核。"],
    "land_transfer": ["企业土地出让金筹措进度偏慢。"],
    "planning_permit": ["建筑方案需按专家评审意见修改。", "规划设计条件与企业需求存在差异。"],
    "construction_permit": ["施工图审查意见尚未闭合。", "环评批复待生态环境钱塘分局出具。"],
    "groundbreaking": ["施工总包招标尚未完成。", "临时用电、用水接入尚未落实。"],
    "completion": ["施工进度滞后，主体结构尚未封顶。", "消防验收整改事项尚未完成。"],
    "production": ["关键设备进口清关周期较长。", "电力增容方案需供电公司进一步确认。", "用能指标尚未落实。"],
}
PROGRESS_EXTRAS = {
    "completion": ["主体结构施工已完成{p}%。", "已完成桩基施工，正在进行主体结构施工。"],
    "production": ["设备已进场{p}%，正在安装调试。", "生产线安装调试中，计划试生产。"],
    "groundbreaking": ["已完成施工总包招标。", "施工单位已进场开展前期准备。"],
    "construction_permit": ["正在开展施工图审查。"],
    "planning_permit": ["建筑设计方案已通过专家评审。"],
}

LEADER_NAME = ("周", "立群")
OFFICE_NAME = ("林", "晓燕")
CADRE_NAMES = [
    ("王", "建国"), ("李", "海燕"), ("张", "伟"), ("刘", "洋"), ("陈", "静"), ("杨", "帆"),
    ("赵", "磊"), ("黄", "丽华"), ("吴", "斌"), ("徐", "婷"), ("孙", "晓东"), ("朱", "慧"),
    ("胡", "俊"), ("郭", "芳"), ("何", "涛"), ("高", "敏"), ("罗", "鹏"), ("郑", "佳"),
    ("梁", "宇"), ("谢", "倩"),
]
LIAISONS = [
    ("区发改局", ("沈", "红")), ("区经信局", ("韩", "冬")), ("区住建局", ("冯", "雪")),
    ("规划资源钱塘分局", ("曹", "阳")), ("区投资促进局", ("许", "诺")),
    ("生态环境钱塘分局", ("邓", "琳")), ("下沙街道", ("蒋", "波")), ("白杨街道", ("袁", "媛")),
]


class DemoDataRefused(Exception):
    """Seeding would duplicate or overwrite existing data."""


@dataclass(frozen=True)
class Login:
    username: str
    role: str  # a key of ROLE_NAMES
    name: str


@dataclass(frozen=True)
class DemoSummary:
    as_of: date
    projects: int
    milestones: int
    colours: dict  # red/yellow/green among active projects
    needs_plan: int
    states: dict  # per Project.State value
    escalations: int
    replans: int
    logins: list
    password: str
    password_generated: bool


@dataclass
class MilestonePlan:
    type_id: int
    owner: str
    planned: date | None = None
    baseline: date | None = None
    actual: date | None = None
    not_applicable: bool = False
    replan_reason: str = ""


@dataclass
class ProjectPlan:
    code: str
    name: str
    sector: str
    level: str
    investment: Decimal
    lead: str
    street: str
    state: str
    cadre: int
    team: list[int]
    milestones: list[MilestonePlan] = field(default_factory=list)
    progress_note: str = ""
    open_problems: str = ""
    outcome: str = "green"  # what the dates are placed to produce
    escalation: tuple[str, str, date] | None = None  # colour, reason, until


def seed_demo(
    *,
    projects: int = DEFAULT_PROJECTS,
    password: str | None,
    today: date,
    rng_seed: int = DEFAULT_SEED,
    cadres: int = DEFAULT_CADRES,
) -> DemoSummary:
    """Create demo departments, accounts and `projects` projects, then recompute.

    Raises DemoDataRefused when projects or any demo account already exist.
    """
    if projects < 1:
        raise ValueError("projects must be at least 1")
    if not 1 <= cadres <= len(CADRE_NAMES):
        raise ValueError(f"cadres must be between 1 and {len(CADRE_NAMES)}")
    _refuse_if_not_empty(cadres)
    generated = password is None
    if generated:
        password = secrets.token_urlsafe(9)
    rng = random.Random(rng_seed)
    types = list(MilestoneType.objects.order_by("order"))
    plans = plan_projects(projects, rng=rng, today=today, types=types, cadres=cadres)

    with transaction.atomic():
        ensure_role_groups()
        departments = _ensure_departments()
        users = _create_accounts(make_password(password), cadres, departments)
        stored = _write_projects(plans, departments, users, today)
        _replay_history(today)

    return _summarise(today, stored, users, password, generated)


HISTORY_WEEKS = 12


def _replay_history(today: date) -> None:
    """Recompute as of each of the last 12 weeks, then today, so the dashboard's
    trend and week-on-week changes have a past (StatusChange rows dated then)."""
    tz = timezone.get_current_timezone()
    for weeks_ago in range(HISTORY_WEEKS, 0, -1):
        day = today - timedelta(weeks=weeks_ago)
        recompute_all(today=day, now=datetime.combine(day, time(0, 5), tzinfo=tz))
    # Today's changes come last even when seeding as of a day still to come.
    recompute_all(
        today=today, now=max(timezone.now(), datetime.combine(today, time(0, 5), tzinfo=tz))
    )


# ---------------------------------------------------------------- the plan (pure)


def plan_projects(
    count: int, *, rng: random.Random, today: date, types: list[MilestoneType], cadres: int
) -> list[ProjectPlan]:
    """The whole demo portfolio in memory; no database access."""
    outcomes = _outcomes(count, rng)
    sector_names = list(SECTORS)
    sector_weights = [SECTORS[name][0] for name in sector_names]
    used_names: set[str] = set()
    plans = []
    for index, outcome in enumerate(outcomes, start=1):
        sector = rng.choices(sector_names, weights=sector_weights)[0]
        name = _project_name(sector, rng, used_names)
        investment = _investment(rng)
        street = rng.choice(STREETS)
        cadre = rng.randrange(cadres)
        others = [c for c in range(cadres) if c != cadre]
        team = sorted(rng.sample(others, k=min(len(others), rng.randint(1, 3))))
        state = outcome if outcome in ("completed", "paused", "terminated") else "active"
        plan = ProjectPlan(
            code=f"QT-{index:04d}",
            name=name,
            sector=sector,
            level=_level(investment, rng),
            investment=investment,
            lead=_lead_department(sector, street, rng),
            street=street,
            state=state,
            cadre=cadre,
            team=team,
            outcome=outcome,
        )
        _plan_milestones(plan, outcome, types, rng, today)
        plans.append(plan)
    _plan_escalations(plans, rng, today)
    return plans


def _outcomes(count: int, rng: random.Random) -> list[str]:
    outcomes = []
    for outcome, share in QUOTAS.items():
        outcomes += [outcome] * round(count * share)
    outcomes = outcomes[:count]
    outcomes += ["green"] * (count - len(outcomes))
    rng.shuffle(outcomes)
    return outcomes


def _project_name(sector: str, rng: random.Random, used: set[str]) -> str:
    _weight, words, products, _lead = SECTORS[sector]
    for _attempt in range(50):
        brand = rng.choice(BRAND_FIRST) + rng.choice(BRAND_SECOND)
        product = rng.choice(products).format(
            n=rng.choice([10, 15, 20, 30, 50]),
            g=rng.choice([6, 10, 20, 30]),
            k=rng.choice([1, 2, 5]),
            t=rng.choice([1, 2, 5, 10]),
        )
        # No "半导体半导体…": skip company words the product name already contains.
        word = rng.choice([w for w in words if w not in product] or [""])
        name = f"{brand}{word}{product}"
        if name not in used:
            used.add(name)
            return name
    name = f"{name}（{len(used) + 1}期）"
    used.add(name)
    return name


def _investment(rng: random.Random) -> Decimal:
    # Log-uniform over 1–120 亿元: many mid-sized projects, a few very large ones.
    value = math.exp(rng.uniform(math.log(1), math.log(120)))
    return Decimal(f"{value:.2f}")


def _level(investment: Decimal, rng: random.Random) -> str:
    if investment >= 50 or (investment >= 30 and rng.random() < 0.4):
        return Project.Level.PROVINCIAL
    if investment >= 10 or (investment >= 5 and rng.random() < 0.3):
        return Project.Level.MUNICIPAL
    return Project.Level.DISTRICT


def _lead_department(sector: str, street: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        return SECTORS[sector][3]
    if roll < 0.7:
        return street
    if roll < 0.85:
        return "区投资促进局"
    return "区发改局"


def _owner(type_code: str, plan: ProjectPlan) -> str:
    owner = OWNER_BY_TYPE.get(type_code, plan.lead)
    if owner == STREET:
        return plan.street
    if type_code == "production" and plan.sector == "现代服务业":
        return "区商务局"
    return owner


def _days(n: float) -> timedelta:
    return timedelta(days=max(1, round(n)))


def _plan_milestones(
    plan: ProjectPlan, outcome: str, types: list[MilestoneType], rng: random.Random, today: date
) -> None:
    # Some projects build on land or plants they already hold: no land steps.
    own_land = rng.random() < 0.12
    plan.milestones = [
        MilestonePlan(
            type_id=t.id,
            owner=_owner(t.code, plan),
            not_applicable=own_land and t.code in LAND_TYPES,
        )
        for t in types
    ]
    applicable = [i for i, m in enumerate(plan.milestones) if not m.not_applicable]
    if not applicable:
        return
    if outcome == "completed":
        first_pending = None
    elif outcome == "needs_plan":
        first_pending = 0
    else:
        weights = [FIRST_PENDING_WEIGHT.get(types[i].code, 8) for i in applicable]
        first_pending = rng.choices(range(len(applicable)), weights=weights)[0]
    if outcome in ("paused", "terminated"):
        outcome = rng.choice(["red", "green"])

    def standard(position: int) -> int:
        days = types[applicable[position]].standard_days
        return days if days is not None else rng.randint(30, 90)

    # The due date of the first pending milestone decides the colour.
    derived = False
    last_done = None
    if first_pending is None:
        last_done = today - _days(rng.randint(10, 500))
        done_count = len(applicable)
    else:
        done_count = first_pending
        due = _due_for(outcome, rng, today, standard(first_pending) if first_pending else 60)
        if first_pending > 0:
            std = standard(first_pending)
            # A quarter of the time leave the plan blank: due "按标准时限".
            derived = (
                types[applicable[first_pending]].standard_days is not None
                and due - timedelta(days=std) < today
                and rng.random() < 0.25
            )
            if derived:
                last_done = due - timedelta(days=std)
            else:
                last_done = min(
                    due - _days(std * rng.uniform(0.6, 1.1)), today - _days(rng.randint(1, 45))
                )
        if outcome != "needs_plan":
            _plan_pending(plan, applicable[first_pending:], due, derived, types, rng)

    # Done milestones, walking back from the most recent one.
    actual = last_done if done_count else None
    for position in range(done_count - 1, -1, -1):
        milestone = plan.milestones[applicable[position]]
        milestone.actual = actual
        milestone.baseline = milestone.planned = actual - timedelta(days=rng.randint(-20, 25))
        if rng.random() < 0.03:
            milestone.baseline = milestone.planned - _days(rng.randint(20, 90))
            milestone.replan_reason = rng.choice(REPLAN_REASONS)
        if position:
            actual = actual - _days(standard(position) * rng.uniform(0.5, 1.3))

    _describe(plan, outcome, types, applicable, done_count, rng)


def _due_for(outcome: str, rng: random.Random, today: date, std: int) -> date:
    if outcome == "red":
        overdue = rng.choice(
            [rng.randint(1, 30), rng.randint(1, 30), rng.randint(31, 90), rng.randint(91, 240)]
        )
        return today - timedelta(days=overdue)
    if outcome == "yellow":
        return today + timedelta(days=rng.randint(0, 15))
    return today + timedelta(days=rng.randint(16, max(60, round(std * 0.9))))


def _plan_pending(
    plan: ProjectPlan,
    positions: list[int],
    due: date,
    derived: bool,
    types: list[MilestoneType],
    rng: random.Random,
) -> None:
    first = plan.milestones[positions[0]]
    if not derived:
        first.planned = first.baseline = due
        if rng.random() < 0.18:
            first.baseline = due - _days(rng.randint(30, 150))
            first.replan_reason = rng.choice(REPLAN_REASONS)
    planned = due
    for step, index in enumerate(positions[1:], start=1):
        std = types[index].standard_days or rng.randint(30, 90)
        planned = planned + _days(std * rng.uniform(0.9, 1.2))
        if step >= 3 and rng.random() < 0.5:
            continue  # far ahead: not planned yet
        plan.milestones[index].planned = plan.milestones[index].baseline = planned


def _describe(plan, outcome, types, applicable, done_count, rng) -> None:
    if plan.state == "completed":
        produced = plan.milestones[applicable[-1]].actual
        plan.progress_note = (
            f"项目已于{_cn_date(produced)}{types[applicable[-1]].name}，"
            f"达产后预计年产值{rng.randint(5, 120)}亿元。"
        )
        return
    if plan.state == "paused":
        plan.progress_note = rng.choice(
            ["受企业投资计划调整影响，项目暂缓推进。", "因市场环境变化，企业申请暂缓实施。"]
        )
        return
    if plan.state == "terminated":
        plan.progress_note = "企业战略调整，经区重大项目协调会研究同意终止。"
        return
    pending = types[applicable[done_count]]
    if outcome == "needs_plan":
        plan.progress_note = "项目已纳入储备库，前期工作计划尚未明确。"
    elif done_count == 0:
        plan.progress_note = "项目已完成前期洽谈，待提交区重大项目评审会审议。"
    else:
        done = types[applicable[done_count - 1]]
        when = plan.milestones[applicable[done_count - 1]].actual
        plan.progress_note = f"已于{_cn_date(when)}完成{done.name}，正在推进{pending.name}相关工作。"
        extras = PROGRESS_EXTRAS.get(pending.code)
        if extras and rng.random() < 0.6:
            plan.progress_note += rng.choice(extras).format(p=rng.choice([30, 45, 60, 75, 90]))
    chance = {"red": 1.0, "yellow": 0.6}.get(outcome, 0.15)
    problems = PROBLEMS_BY_TYPE.get(pending.code)
    if problems and rng.random() < chance:
        plan.open_problems = rng.choice(problems)


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _plan_escalations(plans: list[ProjectPlan], rng: random.Random, today: date) -> None:
    """A few 督办: raise some yellow and green projects, back a red one, one lapsed."""
    active = [p for p in plans if p.state == "active" and p.outcome != "needs_plan"]
    by_outcome = {o: [p for p in active if p.outcome == o] for o in ("red", "yellow", "green")}
    wanted = max(1, len(plans) // 40)
    picks = (
        [("yellow", "red")] * ((wanted + 1) // 2)
        + [("green", "yellow")] * max(0, wanted // 2 - 1)
        + [("red", "red")] * min(1, wanted // 2)
    )
    for outcome, colour in picks:
        candidates = [p for p in by_outcome[outcome] if p.escalation is None]
        # 督办 is raised over a known problem.
        candidates = [p for p in candidates if p.open_problems] or candidates
        if candidates:
            plan = rng.choice(candidates)
            until = today + timedelta(days=rng.randint(20, 60))
            plan.escalation = (colour, rng.choice(ESCALATION_REASONS), until)
    lapsed = [p for p in by_outcome["green"] if p.escalation is None]
    if len(plans) >= 20 and lapsed:
        plan = rng.choice(lapsed)
        until = today - _days(rng.randint(5, 30))
        plan.escalation = ("yellow", rng.choice(ESCALATION_REASONS), until)


# ---------------------------------------------------------------- writing


def _demo_usernames(cadres: int) -> list[str]:
    return (
        [LEADER, OFFICE]
        + [f"cadre{i}" for i in range(1, cadres + 1)]
        + [f"liaison{i}" for i in range(1, len(LIAISONS) + 1)]
    )


def _refuse_if_not_empty(cadres: int) -> None:
    existing = Project.objects.count()
    if existing:
        raise DemoDataRefused(f"数据库中已有{existing}个项目，不再生成演示数据（以免重复）。")
    taken = list(
        get_user_model().objects.filter(username__in=_demo_usernames(cadres))
        .order_by("username").values_list("username", flat=True)
    )
    if taken:
        raise DemoDataRefused(f"演示账号已存在：{'、'.join(taken)}。请先删除这些账号。")


def _ensure_departments() -> dict[str, Department]:
    wanted = [(name, Department.Kind.BUREAU) for name in BUREAUS]
    wanted += [(name, Department.Kind.STREET) for name in STREETS]
    Department.objects.bulk_create(
        [Department(name=name, kind=kind) for name, kind in wanted], ignore_conflicts=True
    )
    return {d.name: d for d in Department.objects.filter(name__in=[n for n, _k in wanted])}


def _create_accounts(password_hash: str, cadres: int, departments) -> dict:
    """leader, office, cadre1…, liaison1…; every account shares one password hash."""
    User = get_user_model()
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLE_NAMES)}
    rows = [
        (LEADER, LEADER, LEADER_NAME, {"is_staff": True}),
        (OFFICE, OFFICE, OFFICE_NAME, {"is_staff": True, "is_superuser": True}),
    ]
    rows += [(f"cadre{i}", CADRE, CADRE_NAMES[i - 1], {}) for i in range(1, cadres + 1)]
    rows += [
        (f"liaison{i}", LIAISON, name, {}) for i, (_dept, name) in enumerate(LIAISONS, start=1)
    ]
    users = User.objects.bulk_create(
        [
            User(
                username=username,
                password=password_hash,
                # Surname in last_name, given name in first_name; shown surname first.
                last_name=surname,
                first_name=given,
                email=f"{username}@{EMAIL_DOMAIN}",
                **flags,
            )
            for username, _role, (surname, given), flags in rows
        ]
    )
    User.groups.through.objects.bulk_create(
        [
            User.groups.through(user_id=user.id, group_id=groups[role].id)
            for user, (_u, role, _n, _f) in zip(users, rows)
        ]
    )
    by_name = {user.username: user for user in users}
    Department.liaisons.through.objects.bulk_create(
        [
            Department.liaisons.through(
                department_id=departments[dept].id, user_id=by_name[f"liaison{i}"].id
            )
            for i, (dept, _name) in enumerate(LIAISONS, start=1)
        ]
    )
    return {
        "by_name": by_name,
        "cadres": [by_name[f"cadre{i}"] for i in range(1, cadres + 1)],
        "roles": {username: role for username, role, _n, _f in rows},
    }


def _write_projects(plans, departments, users, today) -> dict:
    cadres = users["cadres"]
    leader = users["by_name"][LEADER]
    projects = Project.objects.bulk_create(
        [
            Project(
                code=clean_project_code(plan.code),  # bulk_create skips Project.save()
                name=plan.name,
                sector=plan.sector,
                level=plan.level,
                total_investment=plan.investment,
                lead_department=departments[plan.lead],
                responsible_cadre=cadres[plan.cadre],
                state=plan.state,
                progress_note=plan.progress_note,
                open_problems=plan.open_problems,
            )
            for plan in plans
        ]
    )
    Project.team.through.objects.bulk_create(
        [
            Project.team.through(project_id=project.id, user_id=cadres[member].id)
            for project, plan in zip(projects, plans)
            for member in plan.team
        ]
    )
    milestones = Milestone.objects.bulk_create(
        [
            Milestone(
                project_id=project.id,
                milestone_type_id=m.type_id,
                planned_date=m.planned,
                baseline_date=m.baseline,
                actual_date=m.actual,
                not_applicable=m.not_applicable,
                owner_department=departments[m.owner],
            )
            for project, plan in zip(projects, plans)
            for m in plan.milestones
        ],
        batch_size=1000,
    )
    # Types a plan leaves out get their blank milestone, as Project.save() would give them.
    create_missing_milestones(Project, MilestoneType, Milestone, project_ids=[p.id for p in projects])
    plan_milestones = [(m, plan) for plan in plans for m in plan.milestones]
    replans = MilestoneReplan.objects.bulk_create(
        [
            MilestoneReplan(
                milestone_id=stored.id,
                old_planned_date=m.baseline,
                new_planned_date=m.planned,
                reason=m.replan_reason,
                author=cadres[plan.cadre],
            )
            for stored, (m, plan) in zip(milestones, plan_milestones)
            if m.replan_reason
        ]
    )
    escalations = escalations_bulk_create(
        [
            dict(project_id=project.id, colour=colour, reason=reason, until=until, author=leader)
            for project, plan in zip(projects, plans)
            if plan.escalation
            for colour, reason, until in [plan.escalation]
        ]
    )
    return {
        "projects": len(projects),
        "milestones": len(milestones),
        "replans": len(replans),
        "escalations": len(escalations),
    }


def _summarise(today, stored, users, password, generated) -> DemoSummary:
    colours = Counter(
        Project.objects.filter(state=Project.State.ACTIVE).values_list("colour", flat=True)
    )
    states = Counter(Project.objects.values_list("state", flat=True))
    logins = [
        Login(username, role, f"{user.last_name}{user.first_name}")
        for username, user in users["by_name"].items()
        for role in [users["roles"][username]]
    ]
    return DemoSummary(
        as_of=today,
        projects=stored["projects"],
        milestones=stored["milestones"],
        colours={c: colours.get(c, 0) for c in ("red", "yellow", "green")},
        needs_plan=Project.objects.filter(state=Project.State.ACTIVE, needs_plan=True).count(),
        states={s: states.get(s, 0) for s in Project.State.values},
        escalations=stored["escalations"],
        replans=stored["replans"],
        logins=logins,
        password=password,
        password_generated=generated,
    )
