"""Every catalogue type is a milestone of every project: a type nobody filled in is a blank
milestone (pending, due by standard days or unscheduled), never an absent one.

The rules count a type without a stored row as blank (tests/warnings/test_rules.py); here the readers
built on them — the recompute, the export, the digest, the import — and the rows that give
each project's page a milestone of every type to fill in.
"""
from datetime import date, timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.urls import reverse

from projects.models import Milestone, MilestoneType, Project
from projects.workbook.exporter import MILESTONE_FILLS, build_workbook
from qiantang_warnings.digest.snapshot import district_snapshot
from qiantang_warnings.recompute import recompute_all

from .workbook.test_exporter import header_index, reopen, row_of
from .workbook.test_importer import import_rows

pytestmark = pytest.mark.django_db
D = timedelta(days=1)


def approved_without_signing(make_project, code, approved_on):
    """过会 done; 项目签约 left blank, then its row removed, as in databases made before."""
    project = make_project(code, milestones={"approval": {"actual_date": approved_on}})
    Milestone.objects.filter(project=project, milestone_type__code="signing").delete()
    return project


def test_a_new_project_has_a_blank_milestone_of_every_type(make_project, catalogue):
    project = make_project("QT-NEW")
    rows = list(project.milestones.order_by("milestone_type__order").values_list(
        "milestone_type__code", "planned_date", "actual_date", "not_applicable"))
    assert rows == [(code, None, None, False) for code in sorted(catalogue, key=lambda c: catalogue[c].order)]


def test_the_recompute_counts_a_type_without_a_row(make_project, today):
    project = approved_without_signing(make_project, "QT-SIGN", date(2024, 2, 3))
    recompute_all(today=today)
    project.refresh_from_db()
    overdue = (today - date(2024, 3, 4)).days  # signing due 30 days after 过会
    assert project.colour == "red"
    assert project.headline_reason == f"项目签约逾期{overdue}天"


def test_the_migration_gives_existing_projects_their_missing_rows(make_project, catalogue, today):
    project = approved_without_signing(make_project, "QT-OLD", date(2024, 2, 3))
    assert project.milestones.count() == len(catalogue) - 1
    migration = import_module("projects.migrations.0006_catalogue_milestones")
    migration.create_blank_milestones(apps, schema_editor=None)
    signing = project.milestones.get(milestone_type__code="signing")
    assert (signing.planned_date, signing.actual_date, signing.not_applicable) == (None, None, False)
    assert project.milestones.count() == len(catalogue)
    migration.create_blank_milestones(apps, schema_editor=None)  # again: nothing more
    assert Milestone.objects.count() == len(catalogue)


def test_an_imported_row_with_blank_signing_cells_is_red(db, today):
    # Only 过会 filled in: 项目签约 and 土地挂牌 cells left blank by the office.
    row = [1, "QT-0301", "空白签约项目", "区重点", "集成电路", 1, "区经信局", "", "推进中",
           None, date(2024, 2, 3), None, None, None, None, None, None]
    result = import_rows([row], today=today)
    assert result.applied
    project = Project.objects.get(code="QT-0301")
    assert project.milestones.count() == MilestoneType.objects.count()
    assert project.colour == "red"
    assert project.headline_reason == f"项目签约逾期{(today - date(2024, 3, 4)).days}天"


def test_the_export_colours_a_type_without_a_row(make_project, today):
    approved_without_signing(make_project, "QT-EXP", today - 40 * D)
    recompute_all(today=today)
    sheet = reopen(build_workbook(Project.objects.all()))
    row = row_of(sheet, "QT-EXP")
    cell = row[header_index(sheet)["项目签约(计划)"] - 1]
    assert cell.value is None
    assert cell.fill.fgColor.rgb == MILESTONE_FILLS["red"]


def test_the_digest_lists_a_type_without_a_row_that_falls_due(make_project, today):
    # 过会 done 20 days ago: 签约 is due in 10 days by its standard 30 days.
    approved_without_signing(make_project, "QT-DUE", today - 20 * D)
    recompute_all(today=today)
    snapshot = district_snapshot(week="2026-W48", today=today)
    due = [(m.project.code, m.name, m.due_date) for m in snapshot.milestones if m.project.code == "QT-DUE"]
    assert ("QT-DUE", "项目签约", today + 10 * D) in due


@pytest.fixture
def office(client, role_users):
    client.force_login(role_users["office"])
    return client


def type_form(**fields):
    data = {
        "order": "", "code": "", "name": "", "standard_days": "", "yellow_before_days": "",
        "red_after_days": "", "count_working_days": "unknown",
    }
    data.update(fields)
    return data


def test_a_type_added_in_the_admin_applies_to_every_project_at_once(office, make_project, today):
    done = {code: {"actual_date": today - 400 * D} for code in [mt.code for mt in MilestoneType.objects.all()]}
    projects = [make_project(f"QT-T{n}", milestones=done) for n in range(3)]
    recompute_all(today=today)
    assert {p.code: Project.objects.get(pk=p.pk).colour for p in projects} == dict.fromkeys(
        [p.code for p in projects], "green")

    response = office.post(
        reverse("admin:projects_milestonetype_add"),
        type_form(order="10", code="trial_run", name="试生产", standard_days="30"),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    trial = MilestoneType.objects.get(code="trial_run")
    for project in projects:
        assert project.milestones.filter(milestone_type=trial).exists()
        project.refresh_from_db()
        # Recomputed in the same request: 投产 was done 400 days ago, 试生产 30 days after it.
        assert project.colour == "red"
        assert project.headline_reason.startswith("试生产逾期")


def test_changing_a_type_s_standard_days_recomputes_every_project_in_the_request(office, make_project, today):
    # 过会 done 20 days ago, 签约 blank: due in 10 days (yellow); with 10 standard days, 10 overdue.
    projects = [make_project(f"QT-S{n}", milestones={"approval": {"actual_date": today - 20 * D}})
                for n in range(2)]
    recompute_all(today=today)
    assert [Project.objects.get(pk=p.pk).colour for p in projects] == ["yellow", "yellow"]
    signing = MilestoneType.objects.get(code="signing")

    response = office.post(
        reverse("admin:projects_milestonetype_change", args=[signing.pk]),
        type_form(order=str(signing.order), code="signing", name=signing.name, standard_days="10"),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    for project in projects:
        project.refresh_from_db()
        assert (project.colour, project.headline_reason) == ("red", "项目签约逾期10天")
