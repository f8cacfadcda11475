"""The ranking formula on a small table of known answers, and the page."""
from datetime import date, timedelta

import pytest
from django.urls import reverse

from projects.models import CoordinationEvent, CoordinationItem, Department, Project
from qiantang_warnings.ledger.freeze import freeze_month, freeze_snapshot
from qiantang_warnings.ledger.ranking import ItemFact, standings
from qiantang_warnings.recompute import recompute_all

AS_OF = date(2026, 11, 30)


def m(planned=None, actual=None, baseline=None, na=False):
    return {"planned": planned, "actual": actual, "baseline": baseline or planned, "not_applicable": na, "colour": ""}


ROWS = [
    # Department 1: two projects, green and red; three milestones due, two on time; slipped 10 days.
    {"lead_department_id": 1, "colour": "green", "active": True, "milestones": {
        "a": m("2026-10-01", "2026-09-30"),                      # due, on time
        "b": m("2026-11-10", "2026-11-10"),                      # due, on time (same day)
        "c": m("2027-03-01"),                                   # not yet due
    }},
    {"lead_department_id": 1, "colour": "red", "active": True, "milestones": {
        "a": m("2026-11-20", baseline="2026-11-10"),              # due, not done: late; 10 days after baseline
        "b": m(na=True),                                       # not applicable: not counted
    }},
    # Department 2: one yellow project, nothing due; items below.
    {"lead_department_id": 2, "colour": "yellow", "active": True, "milestones": {"a": m("2027-01-01")}},
    # A project of no ranked unit.
    {"lead_department_id": None, "colour": "red", "active": True, "milestones": {}},
]
ITEMS = [
    ItemFact(2, date(2026, 11, 10), date(2026, 11, 9)),   # on time
    ItemFact(2, date(2026, 11, 20), date(2026, 11, 25)),  # late
    ItemFact(2, date(2026, 11, 25), None),                # unanswered: late
    ItemFact(2, date(2026, 12, 10), None),                # not yet due
    ItemFact(1, date(2026, 11, 1), date(2026, 10, 30)),   # on time
]


def test_known_answers():
    table = {s.department_id: s for s in standings(ROWS, ITEMS, as_of=AS_OF, names={1: "区发改局", 2: "区住建局"})}
    one, two = table[1], table[2]
    assert (one.projects, one.red, one.yellow, one.green) == (2, 1, 0, 1)
    assert (one.milestones_due, one.milestones_on_time) == (3, 2)
    assert (one.items_due, one.items_on_time) == (1, 1)
    assert one.slipped_days == 10 and one.mean_slipped_days == 5
    # 40 × ½ + 30 × ⅔ + 30 × 1 − min(20, 5 / 5) = 20 + 20 + 30 − 1
    assert one.score == 69.0
    assert (two.milestones_due, two.items_due, two.items_on_time) == (0, 3, 1)
    # 40 × ½ + 30 × 1 (nothing due) + 30 × ⅓ − 0 = 20 + 30 + 10
    assert two.score == 60.0
    assert [s.department_id for s in sorted(table.values(), key=lambda s: s.rank)] == [1, 2]


def test_a_big_slip_costs_at_most_20_points_and_ties_go_by_name():
    rows = [
        {"lead_department_id": 1, "colour": "green", "milestones": {}},
        {"lead_department_id": 2, "colour": "green", "milestones": {}},
        # Done on plan, but 669 days after the first planned date.
        {"lead_department_id": 3, "colour": "green", "milestones": {"a": m("2026-11-01", "2026-11-01", baseline="2025-01-01")}},
    ]
    ranked = standings(rows, [], as_of=AS_OF, names={1: "乙街道", 2: "甲街道", 3: "丙街道"})
    assert [(s.name, s.score, s.rank) for s in ranked] == [("乙街道", 100.0, 1), ("甲街道", 100.0, 2), ("丙街道", 80.0, 3)]


@pytest.mark.django_db
def test_the_page_ranks_departments_and_streets_of_the_latest_month(client, make_project, role_users, today):
    bureau = Department.objects.create(name="区发改局")
    street = Department.objects.create(name="河庄街道", kind="street")
    make_project("QT-1", lead_department=bureau, milestones={"signing": {"planned_date": today - timedelta(days=3)}})
    make_project("QT-2", lead_department=street, milestones={"signing": {"planned_date": today + timedelta(days=90)}})
    item = CoordinationItem.objects.create(project=make_project("QT-3", lead_department=street),
                                           need="电力增容", department=street, deadline=today - timedelta(days=1))
    CoordinationEvent.objects.create(item=item, kind="answered", comment="已协调")
    recompute_all(today=today)
    ledger = freeze_month(today=AS_OF)
    client.force_login(role_users["leader"])
    html = client.get(reverse("rankings")).content.decode()
    assert "2026年11月项目三色预警表" in html and "得分 = 40×灯色分" in html
    assert 'data-department="区发改局"' in html and 'data-department="河庄街道"' in html
    download = client.get(reverse("rankings_download"), {"ledger": ledger.pk})
    assert download.status_code == 200 and download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client.get(reverse("rankings"), {"ledger": "nope"}).status_code == 404


@pytest.mark.django_db
def test_with_no_ledger_the_page_says_when_it_will_have_one(client, role_users):
    client.force_login(role_users["cadre1"])
    assert "本月最后一天冻结后即可查看" in client.get(reverse("rankings")).content.decode()


@pytest.fixture
def ranked(make_project, role_users, today):
    """A bureau leading a red project, a street leading a green one and answering an item a
    day late; November's ledger frozen."""
    bureau = Department.objects.create(name="区发改局")
    street = Department.objects.create(name="河庄街道", kind="street")
    make_project("QT-1", lead_department=bureau, milestones={"signing": {"planned_date": today - timedelta(days=3)}})
    make_project("QT-2", lead_department=street, milestones={"signing": {"planned_date": today + timedelta(days=90)}})
    item = CoordinationItem.objects.create(project=make_project("QT-3", lead_department=street),
                                           need="电力增容", department=street, deadline=today - timedelta(days=1))
    CoordinationEvent.objects.create(item=item, kind="answered", comment="已协调")  # today: a day late
    recompute_all(today=today)
    return {"ledger": freeze_month(today=AS_OF), "bureau": bureau, "street": street, "item": item}


def ranking_sections(html: str) -> list[str]:
    import re

    return re.findall(r'<section class="panel" data-table=.*?</section>', html, re.S)


def test_a_past_ranking_is_unchanged_by_later_renames_moves_and_answers(client, ranked, role_users, today):
    ledger = ranked["ledger"]
    client.force_login(role_users["leader"])
    url = reverse("rankings")
    before = client.get(url, {"ledger": ledger.pk}).content.decode()
    sections = ranking_sections(before)
    assert len(sections) == 2 and 'data-department="区发改局"' in sections[0] and 'data-department="河庄街道"' in sections[1]
    export = client.get(reverse("rankings_download"), {"ledger": ledger.pk}).content

    # Later: the bureau renamed, the street made a department, the item moved to the bureau
    # with a later deadline and answered again, a new department asked an item.
    Department.objects.filter(pk=ranked["bureau"].pk).update(name="区发展和改革局")
    Department.objects.filter(pk=ranked["street"].pk).update(kind="department", name="河庄街道办事处")
    CoordinationItem.objects.filter(pk=ranked["item"].pk).update(department=ranked["bureau"], deadline=today + timedelta(days=3))
    CoordinationEvent.objects.create(item=ranked["item"], kind="handled", comment="已办结")
    newcomer = Department.objects.create(name="区资规分局")
    CoordinationItem.objects.create(project=Project.objects.get(code="QT-1"), need="用地预审", department=newcomer,
                                    deadline=today - timedelta(days=2))

    after = client.get(url, {"ledger": ledger.pk}).content.decode()
    assert ranking_sections(after) == sections
    assert "区发展和改革局" not in after and "河庄街道办事处" not in after and "区资规分局" not in after
    assert client.get(reverse("rankings_download"), {"ledger": ledger.pk}).content == export
    # A ledger frozen now reads the departments as they are now.
    snapshot = freeze_snapshot(name="改名后", today=today, by=role_users["office"])
    assert "区发展和改革局" in client.get(url, {"ledger": snapshot.pk}).content.decode()


def test_migration_0014_gives_a_ledger_frozen_before_it_the_facts_a_freeze_now_stores(ranked):
    from importlib import import_module

    from django.apps import apps

    from qiantang_warnings.ledger.freeze import ranking_facts
    from qiantang_warnings.models import Ledger

    ledger = ranked["ledger"]
    frozen = ledger.ranking_facts
    assert frozen == ranking_facts(as_of=ledger.as_of, frozen_at=ledger.frozen_at)
    assert frozen["items"] == [[ranked["street"].pk, "2026-11-24", "2026-11-25"]]
    Ledger.objects.update(ranking_facts={})  # as a ledger frozen before the field was
    import_module("qiantang_warnings.migrations.0014_ledger_ranking_facts").fill_in(apps, None)
    ledger.refresh_from_db()
    assert ledger.ranking_facts == frozen


def test_the_rankings_export_has_a_sheet_per_table_with_the_formula_and_the_known_figures(client, ranked, role_users):
    from io import BytesIO

    from openpyxl import load_workbook

    from qiantang_warnings.ledger.export import RANKING_HEADERS

    client.force_login(role_users["cadre1"])
    download = client.get(reverse("rankings_download"), {"ledger": ranked["ledger"].pk})
    assert download.status_code == 200 and download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in download["Content-Disposition"]
    book = load_workbook(BytesIO(download.content))
    assert book.sheetnames == ["部门红黑榜", "街道红黑榜"]
    for sheet, title in zip(book.worksheets, ("部门", "街道")):
        assert sheet["A1"].value == f"2026年11月项目三色预警表 · {title}红黑榜"
        assert sheet["A2"].value.startswith("得分 = 40×灯色分") and "30×协调事项按期答复率" in sheet["A2"].value
        assert [c.value for c in sheet[4]] == RANKING_HEADERS
        assert sheet.max_row == 5  # one unit in each table
        assert sheet["G5"].number_format == sheet["H5"].number_format == "0.0%"
    # The bureau: one red project, its 项目签约 due 3 days before and not done (0 of 1 on time),
    # no item asked of it (counts 1): 40×0 + 30×0 + 30×1 − 0 = 30.
    assert [c.value for c in book["部门红黑榜"][5]] == [1, "区发改局", 1, 1, 0, 0, 0, 1, 0, 30]
    # The street: two green projects, nothing due (1), its one item answered a day late (0):
    # 40×1 + 30×1 + 30×0 − 0 = 70.
    assert [c.value for c in book["街道红黑榜"][5]] == [1, "河庄街道", 2, 0, 0, 2, 1, 0, 0, 70]
    # The same figures as the page.
    page = client.get(reverse("rankings"), {"ledger": ranked["ledger"].pk}).content.decode()
    for name, score in (("区发改局", "30.0"), ("河庄街道", "70.0")):
        row = page.split(f'data-department="{name}"')[1].split("</tr>")[0]
        assert f'<td class="num score">{score}</td>' in row
