"""What a group reads: each event as a short markdown message, and a burst merged into one.

Every message starts with the product's name, which carries the word 预警, so a DingTalk
robot secured by a custom keyword (自定义关键词) can use "预警". Links are absolute (SITE_URL).
Nothing here reads the clock or the database: the outbox passes what it read.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from qiantang import colours
from qiantang.links import absolute_url

from ..reasons import render_reason
from . import protocols

HEADER = "【重大项目三色预警】"
SEPARATOR = "\n\n---\n\n"


@dataclass(frozen=True)
class Text:
    title: str
    text: str
    mobiles: tuple[str, ...] = ()


def _mentions(mobiles) -> str:
    return " ".join(f"@{mobile}" for mobile in mobiles)


def _project_link(code: str, name: str) -> str:
    return f"[{code} {name}]({absolute_url('project_detail', code=code)})"


def red(*, code: str, name: str, reasons: list[dict], department: str, cadre: str, cadre_mobile: str) -> Text:
    """A project turned red: what is late, who leads it, the cadre @-mentioned."""
    lines = [
        "#### " + _("红灯预警：%(code)s %(name)s") % {"code": code, "name": name},
        "**" + _("预警原因") + "**：" + ("；".join(render_reason(r) for r in reasons) or _("（无）")),
    ]
    who = []
    if department:
        who.append(_("牵头单位：%(name)s") % {"name": department})
    if cadre:
        who.append(_("责任干部：%(name)s") % {"name": cadre} + (f" @{cadre_mobile}" if cadre_mobile else ""))
    if who:
        lines.append("　".join(who))
    lines.append(f"[{_('查看项目')}]({absolute_url('project_detail', code=code)})")
    return Text(_("红灯：%(code)s %(name)s") % {"code": code, "name": name}, "\n\n".join(lines),
                (cadre_mobile,) if cadre_mobile else ())


def item_assigned(*, code: str, name: str, need: str, department: str, deadline: date | None,
                  reopened: bool, comment: str, liaison_mobiles: list[str]) -> Text:
    """An item handed to a department (raised, assigned by the office, or reopened)."""
    heading = _("协调事项重新打开：%(department)s") if reopened else _("协调事项交办：%(department)s")
    lines = [
        "#### " + heading % {"department": department},
        "**" + _("项目") + "**：" + _project_link(code, name),
        "**" + _("事项") + "**：" + need,
    ]
    if deadline:
        lines.append("**" + _("办结时限") + "**：" + deadline.isoformat())
    if reopened and comment:
        lines.append("**" + _("说明") + "**：" + comment)
    if liaison_mobiles:
        lines.append(_("请部门联络员答复") + " " + _mentions(liaison_mobiles))
    return Text(_("协调事项交办：%(department)s") % {"department": department}, "\n\n".join(lines), tuple(liaison_mobiles))


def item_overdue(*, code: str, name: str, need: str, department: str, deadline: date, days: int,
                 liaison_mobiles: list[str]) -> Text:
    lines = [
        "#### " + _("协调事项逾期：%(department)s") % {"department": department},
        "**" + _("项目") + "**：" + _project_link(code, name),
        "**" + _("事项") + "**：" + need,
        "**" + _("办结时限") + "**：" + deadline.isoformat() + "，" + _("已逾期%(days)s天") % {"days": days},
    ]
    if liaison_mobiles:
        lines.append(_("请部门联络员尽快答复") + " " + _mentions(liaison_mobiles))
    return Text(_("协调事项逾期：%(department)s") % {"department": department}, "\n\n".join(lines), tuple(liaison_mobiles))


def weekly(*, week: str, scope: str, counts: dict[str, int], reds: list[tuple[str, str, str]],
           open_items: int, overdue_items: int, more_reds: int) -> Text:
    """Monday's summary for a robot's scope: counts by colour, the red projects (most overdue
    first, at most ten), the waiting and overdue coordination items, a link to the board."""
    figures = "　".join(
        f"{colours.label(colour, colours.LAMP)} {counts.get(colour, 0)}" for colour in colours.WORST_FIRST
    )
    lines = [
        "#### " + _("%(scope)s预警周报（%(week)s）") % {"scope": scope, "week": week},
        figures,
    ]
    for code, name, reason in reds:
        lines.append(f"- {_project_link(code, name)}：{reason}")
    if more_reds:
        lines.append(_("另有%(count)s个红灯项目") % {"count": more_reds})
    lines.append(_("协调事项：待答复%(open)s项，其中逾期%(overdue)s项") % {"open": open_items, "overdue": overdue_items})
    lines.append(f"[{_('查看预警看板')}]({absolute_url('dashboard')})")
    return Text(_("%(scope)s预警周报（%(week)s）") % {"scope": scope, "week": week}, "\n\n".join(lines))


def test_message(robot_name: str) -> Text:
    return Text(
        _("测试消息"),
        "#### " + _("测试消息") + "\n\n" + _("“%(name)s”已接入三色预警系统：项目转红、协调事项交办和逾期、每周一周报摘要将推送到本群。")
        % {"name": robot_name},
    )


# ---------------------------------------------------------------- a burst as one message

def _fit(text: str, limit: int) -> str:
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[: limit - 3].decode(errors="ignore") + "…"


def merged(kind: str, notices: list[Text]) -> tuple[Text, int]:
    """As many of the notices (in order) as one message holds, merged under one header:
    the message and how many notices it took (at least one; an over-long one is cut)."""
    mobiles: list[str] = []
    taken: list[Text] = []
    for notice in notices:
        candidate_mobiles = mobiles + [m for m in notice.mobiles if m not in mobiles]
        limit = protocols.max_bytes(kind, mentions=bool(candidate_mobiles))
        candidate = _compose(taken + [notice])
        if taken and len(candidate.encode()) > limit:
            break
        taken.append(notice)
        mobiles = candidate_mobiles
    limit = protocols.max_bytes(kind, mentions=bool(mobiles))
    text = _fit(_compose(taken), limit)
    title = taken[0].title if len(taken) == 1 else _("%(title)s等%(count)s条提醒") % {"title": taken[0].title, "count": len(taken)}
    return Text(title[:60], text, tuple(mobiles)), len(taken)


def _compose(notices: list[Text]) -> str:
    if len(notices) == 1:
        return HEADER + "\n\n" + notices[0].text
    return HEADER + _("%(count)s条提醒") % {"count": len(notices)} + "\n\n" + SEPARATOR.join(n.text for n in notices)
