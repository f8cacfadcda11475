"""Every URL of the site, probed as every role: who may read it, who may write through it.

EXPECTED names every URL pattern of the site (the admin, which Django guards, and the language
switch aside): a URL added without an entry here fails `test_every_url_is_in_the_table`, so a
new endpoint cannot ship without saying who may use it. Each refused write is checked to have
changed nothing in the database; anonymous visitors are sent to sign in, HTMX or not.
"""
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Max
from django.urls import URLResolver, get_resolver, reverse

from projects.models import (
    CoordinationEvent,
    CoordinationItem,
    Department,
    Milestone,
    MilestoneReplan,
    ProgressEntry,
    Project,
    ReplanProposal,
)
from qiantang_warnings.ledger.freeze import freeze_snapshot
from qiantang_warnings.models import DigestPreference, Escalation, LadderSuggestion, Ledger, ScreenLink

pytestmark = pytest.mark.django_db

ROLES = ["leader", "office", "cadre1", "cadre2", "liaison1"]
EVERYONE = set(ROLES)
EDITORS = {"office", "cadre1", "liaison1"}  # the project's cadre, the owning department's liaison
PUBLIC = "public"

# name: (who may GET, who may POST); None: the method is not offered (405 for everyone).
EXPECTED = {
    "home": (EVERYONE, None),
    "project_list": (EVERYONE, None),
    "my_projects": (EVERYONE, None),
    "project_detail": (EVERYONE, None),
    "milestone_row": (EVERYONE, None),  # the row as shown; editing it is milestone_edit
    "milestone_edit": (EDITORS, EDITORS),
    "replan_propose": (EDITORS, EDITORS),
    "progress_edit": ({"office", "cadre1"}, {"office", "cadre1"}),
    "replan_queue": ({"office", "leader"}, None),
    "replan_approve": (None, {"office"}),
    "replan_reject": (None, {"office"}),
    "escalation_create": (None, {"office", "leader"}),
    "workbook_import": ({"office"}, {"office"}),
    "workbook_import_confirm": (None, {"office"}),
    "workbook_import_progress": ({"office"}, None),
    "workbook_export": (EVERYONE, None),
    "digest_preview": (EVERYONE, None),
    "digest_preferences": (EVERYONE, EVERYONE),  # one's own, never another's
    "dashboard": (EVERYONE, None),
    "password_change": (EVERYONE, EVERYONE),
    "password_change_done": (EVERYONE, None),
    "login": (PUBLIC, PUBLIC),
    "logout": (None, EVERYONE),
    "healthz": (PUBLIC, None),
    "coordination_items": (EVERYONE, None),
    "ledger_list": (EVERYONE, None),
    "ledger_snapshot": (None, {"office"}),
    "ledger_detail": (EVERYONE, None),
    "ledger_download": (EVERYONE, None),
    "ledger_changes": (EVERYONE, None),
    "ledger_changes_download": (EVERYONE, None),
    "rankings": (EVERYONE, None),
    "rankings_download": (EVERYONE, None),
    "screen": (PUBLIC, None),
    "ladder_queue": ({"office", "leader"}, None),
    "ladder_decide": (None, {"office"}),  # the office's link is the key (tests/warnings/test_screen.py)
    "coordination_item_raise": (None, {"office", "cadre1"}),
    "coordination_item_step": (None, {"office", "liaison1"}),  # answering: the department asked
    "coordination_item_assign": (None, {"office"}),  # an item from the workbook
}


def site_patterns(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith(("admin/", "i18n/")):
                continue
            yield from site_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif not prefix + str(pattern.pattern) == "admin/password_change/":
            yield pattern


def test_every_url_is_in_the_table():
    names = {pattern.name for pattern in site_patterns()}
    assert names == set(EXPECTED), (
        "say who may use each URL in tests/test_url_probe.py EXPECTED: "
        f"missing {sorted(names - set(EXPECTED))}, stale {sorted(set(EXPECTED) - names)}"
    )


@pytest.fixture
def site(role_users, make_project, today):
    department = Department.objects.create(name="区住建局")
    department.liaisons.add(role_users["liaison1"])
    project = make_project(
        "QT-0001", responsible_cadre=role_users["cadre1"],
        milestones={"signing": {"planned_date": today - timedelta(days=3), "owner_department": department}},
    )
    milestone = Milestone.objects.get(project=project, milestone_type__code="signing")
    proposal = ReplanProposal.objects.create(
        milestone=milestone, proposer=role_users["cadre1"], previous_planned_date=milestone.planned_date,
        proposed_planned_date=today + timedelta(days=30), reason="征迁延后",
    )
    item = CoordinationItem.objects.create(
        project=project, need="地块征迁", department=department, deadline=today + timedelta(days=10),
        raised_by=role_users["cadre1"],
    )
    unassigned = CoordinationItem.objects.create(project=project, need="来自预警表的存在问题")
    ledger = freeze_snapshot(name="会前快照", today=today, by=role_users["office"])
    screen = ScreenLink.objects.create(name="会议室大屏")
    suggestion = LadderSuggestion.objects.create(project=project, step="escalate", red_since=today, weeks_red=2,
                                                 suggested_on=today)
    kwargs = {
        "project_detail": {"code": project.code},
        "milestone_row": {"code": project.code, "type_code": "signing"},
        "milestone_edit": {"code": project.code, "type_code": "signing"},
        "replan_propose": {"code": project.code, "type_code": "signing"},
        "progress_edit": {"code": project.code, "kind": "progress"},
        "replan_approve": {"pk": proposal.pk},
        "replan_reject": {"pk": proposal.pk},
        "escalation_create": {"code": project.code},
        "coordination_item_raise": {"code": project.code},
        "coordination_item_step": {"pk": item.pk, "step": "answer"},
        "coordination_item_assign": {"pk": unassigned.pk},
        "ledger_detail": {"pk": ledger.pk},
        "ledger_download": {"pk": ledger.pk},
        "ledger_changes": {"pk": ledger.pk},
        "ledger_changes_download": {"pk": ledger.pk},
        "screen": {"token": screen.token},
        "ladder_decide": {"pk": suggestion.pk, "decision": "dismiss"},
    }
    return {"project": project, "milestone": milestone, "kwargs": kwargs, "today": today}


def post_data(name, site):
    today, milestone = site["today"], site["milestone"]
    milestone.refresh_from_db()
    return {
        "milestone_edit": {"updated_at": milestone.updated_at.isoformat(),
                           "planned_date": milestone.planned_date.isoformat(), "actual_date": today.isoformat()},
        "replan_propose": {"proposed_planned_date": (today + timedelta(days=60)).isoformat(), "reason": "再议"},
        "progress_edit": {"text": "已进场施工", "based_on": ""},
        "replan_approve": {"comment": "同意"},
        "replan_reject": {"comment": "不同意"},
        "escalation_create": {"colour": "red", "reason": "领导督办", "until": (today + timedelta(days=7)).isoformat()},
        "workbook_import": {"workbook": SimpleUploadedFile("a.xlsx", b"not a workbook")},
        "workbook_import_confirm": {"token": "x"},
        "digest_preferences": {"enabled": "on"},
        "coordination_item_raise": {"need": "电力增容", "department": Department.objects.get().pk,
                                    "deadline": (today + timedelta(days=20)).isoformat()},
        "coordination_item_step": {"comment": "已协调供电公司"},
        "coordination_item_assign": {"department": Department.objects.get().pk,
                                     "deadline": (today + timedelta(days=15)).isoformat()},
        "ledger_snapshot": {"name": "常委会前"},
        "ladder_decide": {"comment": "已另行协调"},
        "password_change": {"old_password": "wrong", "new_password1": "Qt-new-pw-2026", "new_password2": "Qt-new-pw-2026"},
    }.get(name, {})


def database_state():
    """What a refused request must leave as it was."""
    return [
        (model.__name__, model.objects.count(),
         model.objects.aggregate(latest=Max("updated_at"))["latest"] if hasattr(model, "updated_at") else None)
        for model in (Project, Milestone, MilestoneReplan, ReplanProposal, Escalation, ProgressEntry, DigestPreference,
                      CoordinationItem, CoordinationEvent, Ledger, LadderSuggestion)
    ] + [("passwords", sorted(User.objects.values_list("password", flat=True)))]


def url_of(name, site):
    return reverse(name, kwargs=site["kwargs"].get(name, {}))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_anonymous_visitors_are_sent_to_sign_in(client, site, name):
    readers, writers = EXPECTED[name]
    for method, allowed in (("get", readers), ("post", writers)):
        if allowed == PUBLIC:
            continue
        before = database_state()
        response = getattr(client, method)(url_of(name, site), post_data(name, site) if method == "post" else None)
        if allowed is None and response.status_code == 405:
            continue
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], (name, method)
        htmx = getattr(client, method)(url_of(name, site), HTTP_HX_REQUEST="true")
        assert htmx.status_code in (302, 200, 405), (name, method)
        if htmx.status_code == 200:
            assert "/accounts/login/" in htmx["HX-Redirect"], (name, method)
        assert database_state() == before, (name, method)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_role_is_refused_or_served_as_the_table_says(client, role_users, site, name, role):
    readers, writers = EXPECTED[name]
    client.force_login(role_users[role])
    url = url_of(name, site)

    read = client.get(url)
    if readers is None:
        assert read.status_code == 405, (name, role, read.status_code)
    elif readers == PUBLIC or role in readers:
        # 204: served, with nothing to say yet (an import's progress before it reports).
        assert read.status_code in (200, 204, 302), (name, role, read.status_code)
    else:
        assert read.status_code == 403, (name, role, read.status_code)

    client.force_login(role_users[role])  # a GET of logout-like pages must not matter
    before = database_state()
    write = client.post(url, post_data(name, site))
    if writers is None:
        assert write.status_code == 405, (name, role, write.status_code)
        assert database_state() == before, (name, role)
    elif writers == PUBLIC or role in writers:
        assert write.status_code != 403 and write.status_code < 500, (name, role, write.status_code)
    else:
        assert write.status_code == 403, (name, role, write.status_code)
        assert database_state() == before, (name, role)
