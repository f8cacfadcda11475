"""The ledger: frozen exactly once a month (two beats at once freeze one), unchanged after
later edits, downloaded as the same bytes whenever, snapshots by the office only."""
import hashlib
from datetime import date, datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from projects.models import CoordinationItem, Department, Milestone, Project
from qiantang_warnings.ledger.export import ledger_workbook
from qiantang_warnings.ledger.freeze import freeze_month, freeze_snapshot
from qiantang_warnings.models import Ledger, LedgerRow
from qiantang_warnings.recompute import recompute_all
from qiantang_warnings.tasks import freeze_monthly_ledger
from tests.concurrency import run_in_thread

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTH_END = date(2026, 11, 30)
D = timedelta(days=1)


@pytest.fixture
def district(make_project, role_users, today):
    housing = Department.objects.create(name="区住建局")
    late = make_project("QT-0001", name="澜康微电子先进封装项目", lead_department=housing,
                        responsible_cadre=role_users["cadre1"], sector="集成电路",
                        milestones={"signing": {"planned_date": today - 3 * D}})
    fine = make_project("QT-0002", name="中策橡胶智能工厂", sector="汽车",
                        milestones={"signing": {"planned_date": today + 60 * D}})
    CoordinationItem.objects.create(project=late, need="施工许可需消防设计审查意见", department=housing,
                                    deadline=today + 5 * D, raised_by=role_users["cadre1"])
    recompute_all(today=today)
    return {"late": late, "fine": fine, "housing": housing}


pytestmark = pytest.mark.django_db


def test_only_the_month_s_last_day_freezes_and_only_once(district):
    assert freeze_month(today=date(2026, 11, 29)) is None
    ledger = freeze_month(today=MONTH_END)
    assert ledger.name == "2026年11月项目三色预警表" and ledger.month == date(2026, 11, 1)
    assert ledger.kind == "month" and ledger.as_of == MONTH_END
    assert freeze_month(today=MONTH_END) is None  # beat twice, a retried task
    assert freeze_month(today=date(2026, 12, 1)) is None  # the catch-up finds it done
    assert Ledger.objects.count() == 1
    rows = {row.code: row for row in LedgerRow.objects.filter(ledger=ledger)}
    assert rows["QT-0001"].colour == "red" and rows["QT-0002"].colour == "green"
    assert rows["QT-0001"].data["items"][0]["need"] == "施工许可需消防设计审查意见"
    assert ledger.counts == {"red": 1, "green": 1}


def test_the_catch_up_on_the_1st_freezes_a_month_beat_missed_and_says_so(district):
    ledger = freeze_month(today=date(2026, 12, 1))
    assert ledger.month == date(2026, 11, 1)
    assert ledger.name == "2026年11月项目三色预警表（2026-12-01补冻结）"
    assert freeze_month(today=date(2026, 12, 2)) is None


def test_the_task_is_a_thin_wrapper(district, time_machine):
    time_machine.move_to(datetime(2026, 11, 30, 23, 50, tzinfo=SHANGHAI), tick=False)
    assert freeze_monthly_ledger.run()["ledger"] == Ledger.objects.get().pk


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_beats_at_the_same_moment_freeze_one_ledger(district):
    results = {}
    threads = [run_in_thread(name, lambda: freeze_month(today=MONTH_END), results) for name in ("beat-1", "beat-2")]
    for thread in threads:
        thread.join(30)
    frozen = [value for value in results.values() if value is not None]
    assert not [value for value in results.values() if isinstance(value, BaseException)], results
    assert len(frozen) == 1
    assert Ledger.objects.count() == 1 and LedgerRow.objects.count() == 2


def test_a_ledger_is_unchanged_by_later_edits_and_downloads_as_the_same_bytes(district, today, time_machine):
    ledger = freeze_month(today=MONTH_END)
    first = ledger_workbook(ledger)
    before = list(LedgerRow.objects.filter(ledger=ledger).order_by("code").values_list("data", flat=True))

    # Later: the late project's milestone is done, the project renamed, the item closed.
    Milestone.objects.filter(project=district["late"], milestone_type__code="signing").update(actual_date=today)
    Project.objects.filter(pk=district["late"].pk).update(name="改名后的项目")
    CoordinationItem.objects.update(state="closed")
    recompute_all(today=today + D)
    time_machine.shift(timedelta(days=40))

    assert list(LedgerRow.objects.filter(ledger=ledger).order_by("code").values_list("data", flat=True)) == before
    again = ledger_workbook(ledger)
    assert hashlib.sha256(again).hexdigest() == hashlib.sha256(first).hexdigest()
    sheet = load_workbook(BytesIO(again)).worksheets[0]
    assert sheet["A1"].value == "2026年11月项目三色预警表（截至2026年11月30日）"
    assert sheet["B3"].value == "澜康微电子先进封装项目"
    headers = [cell.value for cell in sheet[2]]
    assert sheet.cell(3, headers.index("预警等级") + 1).value == "红"
    assert "施工许可需消防设计审查意见" in sheet.cell(3, headers.index("存在问题") + 1).value


def test_the_download_lists_the_changes_since_the_previous_ledger(district, today, role_users):
    first = freeze_snapshot(name="会前快照", today=today, by=role_users["office"])
    Milestone.objects.filter(project=district["fine"], milestone_type__code="signing").update(planned_date=today - 2 * D)
    recompute_all(today=today)
    second = freeze_month(today=MONTH_END)
    assert first.frozen_at <= second.frozen_at
    book = load_workbook(BytesIO(ledger_workbook(second)))
    assert book.sheetnames == ["三色预警表", "变化情况"]
    text = "\n".join(str(c.value) for row in book["变化情况"].iter_rows() for c in row if c.value is not None)
    assert "较 会前快照 的变化" in text and "新转红（1）" in text and "QT-0002" in text


# ---------------------------------------------------------------- the pages

def test_everyone_reads_ledgers_with_the_dashboard_s_filters(client, district, role_users, django_assert_max_num_queries):
    ledger = freeze_month(today=MONTH_END)
    client.force_login(role_users["liaison1"])
    listing = client.get(reverse("ledger_list")).content.decode()
    assert "2026年11月项目三色预警表" in listing and "冻结快照" not in listing  # only the office freezes
    with django_assert_max_num_queries(12):
        page = client.get(reverse("ledger_detail", kwargs={"pk": ledger.pk}), {"colour": "red"})
    html = page.content.decode()
    assert 'data-code="QT-0001"' in html and 'data-code="QT-0002"' not in html
    assert "项目签约逾期" in html
    sector = client.get(reverse("ledger_detail", kwargs={"pk": ledger.pk}), {"sector": "汽车"}, HTTP_HX_REQUEST="true")
    assert 'data-code="QT-0002"' in sector.content.decode() and "<html" not in sector.content.decode()
    assert sector["HX-Push-Url"].endswith("?sector=%E6%B1%BD%E8%BD%A6")


def test_the_office_freezes_a_named_snapshot_and_a_blank_name_is_refused_in_chinese(client, district, role_users):
    client.force_login(role_users["office"])
    empty = client.post(reverse("ledger_snapshot"), {"name": "  "}, HTTP_HX_REQUEST="true")
    assert empty.status_code == 200 and "请填写快照名称" in empty.content.decode()
    assert not Ledger.objects.exists()
    made = client.post(reverse("ledger_snapshot"), {"name": "12月区委常委会前"}, HTTP_HX_REQUEST="true")
    ledger = Ledger.objects.get()
    assert made["HX-Redirect"] == reverse("ledger_detail", kwargs={"pk": ledger.pk})
    assert (ledger.kind, ledger.name, ledger.frozen_by) == ("snapshot", "12月区委常委会前", role_users["office"])


@pytest.mark.parametrize("who", ["leader", "cadre1", "liaison1"])
def test_only_the_office_freezes(client, district, role_users, who):
    client.force_login(role_users[who])
    assert client.post(reverse("ledger_snapshot"), {"name": "快照"}).status_code == 403
    assert not Ledger.objects.exists()


def test_the_changes_page_against_a_constructed_history(client, district, today, role_users):
    october = freeze_snapshot(name="10月底", today=today, by=role_users["office"])
    # What happens next: the fine project goes late (re-planned earlier), the late one is signed,
    # its item is closed and a new one raised.
    Milestone.objects.filter(project=district["fine"], milestone_type__code="signing").update(planned_date=today - D)
    Milestone.objects.filter(project=district["late"], milestone_type__code="signing").update(actual_date=today)
    CoordinationItem.objects.update(state="closed")
    CoordinationItem.objects.create(project=district["fine"], need="电力增容", department=district["housing"],
                                    deadline=today + 9 * D, raised_by=role_users["cadre1"])
    recompute_all(today=today)
    client.force_login(role_users["leader"])
    html = client.get(reverse("ledger_changes", kwargs={"pk": october.pk})).content.decode()
    assert "“10月底”以来的变化" in html
    section = html.split('id="turned-red"')[1].split("</section>")[0]
    assert 'data-code="QT-0002"' in section and "新转红（1）" in section
    recovered = html.split('id="recovered"')[1].split("</section>")[0]
    assert 'data-code="QT-0001"' in recovered
    assert "项目签约" in html.split('id="milestones-done"')[1].split("</section>")[0]
    items = html.split('id="items"')[1].split("</section>")[0]
    assert "电力增容" in items and "施工许可需消防设计审查意见" in items
    replanned = html.split('id="replanned"')[1].split("</section>")[0]
    assert 'data-code="QT-0002"' in replanned

    november = freeze_month(today=MONTH_END)
    until = client.get(reverse("ledger_changes", kwargs={"pk": october.pk}), {"until": november.pk}).content.decode()
    assert "2026年11月项目三色预警表 较 10月底 的变化" in until
    assert client.get(reverse("ledger_changes", kwargs={"pk": october.pk}), {"until": "x"}).status_code == 404


def sheet_blocks(sheet) -> tuple[str, dict[str, list[tuple]]]:
    """The 变化情况 sheet read back: its title, and each block's heading (without the count)
    with its data rows (the header row left out)."""
    import re

    blocks, heading, header_next = {}, None, False
    for values in sheet.iter_rows(min_row=2, values_only=True):
        values = tuple(v.date() if isinstance(v, datetime) else v for v in values)
        if not any(v is not None for v in values):
            heading = None
            continue
        found = re.fullmatch(r"(.+)（(\d+)）", str(values[0])) if values[1:] == (None,) * len(values[1:]) else None
        if found:
            heading, header_next = found.group(1), True
            blocks[heading] = []
            assert int(found.group(2)) >= 0
        elif header_next:
            header_next = False
        elif heading:
            blocks[heading].append(tuple(v for v in values if v is not None))
    return sheet["A1"].value, blocks


def page_section(html, section_id):
    return html.split(f'id="{section_id}"')[1].split("</section>")[0]


def page_codes(html, section_id):
    import re

    return re.findall(r'data-code="([^"]+)"', page_section(html, section_id))


@pytest.fixture
def history(district, today, role_users, make_project):
    """October's snapshot, then: QT-0002 goes late (its plan moved earlier), QT-0001 is signed,
    its item closed, a new item raised (its text looks like a formula), a project added."""
    october = freeze_snapshot(name="10月底", today=today, by=role_users["office"])
    Milestone.objects.filter(project=district["fine"], milestone_type__code="signing").update(planned_date=today - D)
    Milestone.objects.filter(project=district["late"], milestone_type__code="signing").update(actual_date=today)
    CoordinationItem.objects.update(state="closed")
    CoordinationItem.objects.create(project=district["fine"], need='=HYPERLINK("http://x.example","电力增容")',
                                    department=district["housing"], deadline=today + 9 * D, raised_by=role_users["cadre1"])
    make_project("QT-0003", name="新纳入的项目", milestones={"signing": {"planned_date": today + 90 * D}})
    recompute_all(today=today)
    return october


def test_the_changes_download_is_what_the_page_shows(client, history, today, role_users):
    october = history
    client.force_login(role_users["liaison1"])  # whoever reads the page downloads it
    page = client.get(reverse("ledger_changes", kwargs={"pk": october.pk})).content.decode()
    url = reverse("ledger_changes_download", kwargs={"pk": october.pk})
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["变化情况"]
    title, blocks = sheet_blocks(book["变化情况"])
    assert title == "“10月底”以来的变化（截至2026年11月25日）" and "“10月底”以来的变化" in page

    # Block by block, the rows the page lists, in its order.
    assert [r[0] for r in blocks["新转红"]] == page_codes(page, "turned-red") == ["QT-0002"]
    assert blocks["新转红"][0][:3] == ("QT-0002", "中策橡胶智能工厂", "绿")
    assert [r[0] for r in blocks["好转"]] == page_codes(page, "recovered") == ["QT-0001"]
    assert blocks["好转"] == [("QT-0001", "澜康微电子先进封装项目", "红", "绿")]
    assert [r[0] for r in blocks["调整计划"]] == page_codes(page, "replanned") == ["QT-0002"]
    (replan,) = blocks["调整计划"]
    assert replan == ("QT-0002", "中策橡胶智能工厂", "项目签约", today + 60 * D, today - D, 0)
    replanned = page_section(page, "replanned")
    assert all(text in replanned for text in ("项目签约", (today + 60 * D).isoformat(), (today - D).isoformat()))
    assert [r[:4] for r in blocks["完成节点"]] == [("QT-0001", "澜康微电子先进封装项目", "项目签约", today)]
    assert page_codes(page, "milestones-done") == ["QT-0001"]
    assert f"项目签约 {today.isoformat()}" in page_section(page, "milestones-done")
    opened, closed = page_section(page, "items").split("销号的协调事项")
    assert blocks["新增协调事项"] == [("QT-0002", "中策橡胶智能工厂", '=HYPERLINK("http://x.example","电力增容")',
                                  "区住建局", today + 9 * D)]
    assert "=HYPERLINK(&quot;http://x.example&quot;,&quot;电力增容&quot;)（区住建局" in opened
    assert blocks["销号的协调事项"] == [("QT-0001", "澜康微电子先进封装项目", "施工许可需消防设计审查意见", "区住建局", today + 5 * D)]
    assert "施工许可需消防设计审查意见（区住建局）" in closed
    assert blocks["新增项目"] == [("QT-0003", "新纳入的项目")] and "新增 QT-0003 新纳入的项目" in page
    assert blocks["移出项目"] == []

    # What a user typed stays text in Excel, never a formula.
    cell = next(c for row in book["变化情况"].iter_rows() for c in row if str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s" and cell.quotePrefix


def test_the_changes_download_between_two_ledgers_is_the_chosen_pair_and_the_same_bytes(client, history, role_users, time_machine):
    october = history
    november = freeze_month(today=MONTH_END)
    client.force_login(role_users["leader"])
    page = client.get(reverse("ledger_changes", kwargs={"pk": october.pk}), {"until": november.pk}).content.decode()
    url = reverse("ledger_changes_download", kwargs={"pk": october.pk})
    assert f'href="{url}?until={november.pk}"' in page
    first = client.get(url, {"until": november.pk})
    title, blocks = sheet_blocks(load_workbook(BytesIO(first.content))["变化情况"])
    assert title == "2026年11月项目三色预警表 较 10月底 的变化" and title in page
    assert [r[0] for r in blocks["新转红"]] == page_codes(page, "turned-red") == ["QT-0002"]
    assert [r[0] for r in blocks["新增项目"]] == ["QT-0003"]
    time_machine.shift(timedelta(days=3))
    Project.objects.filter(code="QT-0003").update(name="后来改名")  # after November: not in this pair
    client.force_login(role_users["leader"])  # the session of three days ago has ended
    assert client.get(url, {"until": november.pk}).content == first.content
    assert client.get(url, {"until": "x"}).status_code == 404
    client.logout()
    assert client.get(url)["Location"].startswith("/accounts/login/")


def test_a_long_ledger_is_paged_and_counted_in_the_database(client, district, role_users, make_project, today, monkeypatch):
    from qiantang_warnings.ledger import views

    for number in range(3, 8):
        make_project(f"QT-{number:04d}", milestones={"signing": {"planned_date": today + 60 * D}})
    recompute_all(today=today)
    ledger = freeze_month(today=MONTH_END)
    client.force_login(role_users["leader"])
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    first = client.get(reverse("ledger_detail", kwargs={"pk": ledger.pk})).content.decode()
    second = client.get(reverse("ledger_detail", kwargs={"pk": ledger.pk}), {"page": 2}, HTTP_HX_REQUEST="true")
    assert "7 个项目" in first and 'data-count="green">6<' in first and "第 1 / 3 页" in first
    assert first.count('<tr data-code=') == 3
    html = second.content.decode()
    assert "第 2 / 3 页" in html and 'data-code="QT-0004"' in html
    assert second["HX-Push-Url"].endswith("?page=2")


def test_the_monthly_pages_read_in_english_too(client, district, role_users, today):
    ledger = freeze_month(today=MONTH_END)
    client.force_login(role_users["office"])
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    pages = {
        reverse("ledger_list"): "Frozen ledgers",
        reverse("ledger_detail", kwargs={"pk": ledger.pk}): "Download this ledger",
        reverse("ledger_changes", kwargs={"pk": ledger.pk}): "Turned red (",
        reverse("rankings"): "Milestones on time",
        reverse("ladder_queue"): "No suggestion waiting.",
    }
    for url, text in pages.items():
        response = client.get(url)
        assert response.status_code == 200 and text in response.content.decode(), url
