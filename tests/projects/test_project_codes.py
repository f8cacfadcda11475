"""Project codes (项目编号) that cannot break the site: one spelling per code, only codes
that fit in the project's URLs, refused at every entrance, repaired in old databases.

(The workbook import's refusals are in workbook/test_importer.py, the admin's in test_admin.py.)
"""
import importlib
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import URLPattern, resolve, reverse
from django.utils import translation

from projects import urls as project_urls
from projects.codes import (
    INVALID_MESSAGE,
    MAX_LENGTH,
    clean_project_code,
    is_valid_project_code,
    normalize_project_code,
    plan_code_repairs,
    repair_project_code,
    validate_project_code,
)
from projects.demo import seed_demo
from projects.models import Project
from qiantang_warnings.digest.delivery import send_week
from qiantang_warnings.digest.weeks import week_label
from qiantang_warnings.recompute import recompute_all

MESSAGE = (
    "项目编号只能包含字母、数字、汉字和连字符“-”、下划线“_”、点“.”，"
    "须以字母、数字或汉字开头，最长40个字符"
)
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]

# Every shape the rule allows, as stored (normalised).
ALLOWED = [
    "QT-0001",
    "2025-钱塘-017",
    "A.B_C-1",
    "MINE",  # what "mine" becomes: must not be taken for /projects/mine/
    "7",
    "钱",
    "QT_2025.1",
    "ÄÖ-Ω1",
    "二〇二五-1",
    "X" * MAX_LENGTH,
]


@pytest.fixture(autouse=True)
def in_chinese():
    with translation.override("zh-hans"):
        yield


# ---------------------------------------------------------------- the rule, pure


@pytest.mark.parametrize(
    "text, expected",
    [
        ("QT-0001", "QT-0001"),
        ("ＱＴ－０００１", "QT-0001"),  # full width, as typed with a Chinese IME
        ("qt-0001", "QT-0001"),
        ("  QT-0001\t", "QT-0001"),
        ("\u3000QT-0001\u3000", "QT-0001"),  # the ideographic space
        *[(f"QT-{zw}0001{zw}", "QT-0001") for zw in ZERO_WIDTH],
        (f"{ZERO_WIDTH[0]} qt-0001 {ZERO_WIDTH[-1]}", "QT-0001"),
        ("2025-钱塘-017", "2025-钱塘-017"),
        ("a.b_c-1", "A.B_C-1"),
        ("QT/9001", "QT/9001"),  # normalising does not repair
        ("", ""),
        (None, ""),
    ],
)
def test_normalising_gives_one_spelling(text, expected):
    assert normalize_project_code(text) == expected
    assert normalize_project_code(expected) == expected  # stable


@pytest.mark.parametrize("code", ALLOWED)
def test_the_offices_shapes_are_allowed(code):
    assert is_valid_project_code(code)
    validate_project_code(code)  # does not raise
    assert clean_project_code(code) == code


@pytest.mark.parametrize(
    "text",
    [
        "QT/9001", "QT 0001", "QT?1", "QT#1", "QT%1", "QT&1", "QT+1", "QT\\1", "QT:1",
        "QT<1>", "QT\"1", "QT'1", "QT–0001",  # an en dash, not a hyphen
        "-QT", ".QT", "_QT", ".", "..",
        "", "\u200b", " ",
        "X" * (MAX_LENGTH + 1),
        "QT\x001", "QT\n1", "QT\u00ad1",  # NUL, a newline, a soft hyphen
    ],
)
def test_codes_that_would_break_a_url_or_a_cell_are_refused(text):
    code = normalize_project_code(text)
    assert not is_valid_project_code(code)
    with pytest.raises(ValidationError) as refused:
        validate_project_code(text)
    assert refused.value.messages == [MESSAGE]
    with pytest.raises(ValidationError):
        clean_project_code(text)


def test_a_code_is_judged_as_it_will_be_stored():
    validate_project_code(" ｑｔ－０００１\u200b")  # becomes QT-0001
    assert clean_project_code(" ｑｔ－０００１\u200b") == "QT-0001"
    assert len(clean_project_code("ａ" * MAX_LENGTH)) == MAX_LENGTH


def test_the_message_is_chinese_at_the_source():
    assert str(INVALID_MESSAGE) == MESSAGE


# ---------------------------------------------------------------- URLs


def _code_patterns():
    from qiantang_warnings.escalations import urls as escalation_urls

    return [
        p for p in [*project_urls.urlpatterns, *escalation_urls.urlpatterns]
        if isinstance(p, URLPattern) and "<str:code>" in str(p.pattern)
    ]


URL_KWARGS = {
    "project_detail": {},
    "milestone_edit": {"type_code": "signing"},
    "milestone_row": {"type_code": "signing"},
    "progress_edit": {"kind": "progress"},
    "replan_propose": {"type_code": "signing"},
    "escalation_create": {},
}


def test_every_project_url_is_checked_here():
    assert {p.name for p in _code_patterns()} == set(URL_KWARGS)


@pytest.mark.parametrize("code", ALLOWED)
@pytest.mark.parametrize("name", sorted(URL_KWARGS))
def test_every_allowed_code_reverses_and_resolves_through_every_project_url(code, name):
    url = reverse(name, kwargs={"code": code, **URL_KWARGS[name]})
    match = resolve(unquote(url))
    assert match.url_name == name
    assert match.kwargs == {"code": code, **URL_KWARGS[name]}


def test_no_allowed_code_is_taken_for_a_fixed_path_under_projects():
    """/projects/mine/ is matched before /projects/<code>/; normalised codes are upper
    case and the resolver is case-sensitive, so a project coded mine stays reachable."""
    fixed = [
        str(p.pattern).removeprefix("projects/").rstrip("/")
        for p in project_urls.urlpatterns
        if str(p.pattern).startswith("projects/") and "<" not in str(p.pattern)
        and str(p.pattern) != "projects/"
    ]
    assert fixed == ["mine"]
    for segment in fixed:
        code = normalize_project_code(segment)
        assert code == "MINE" and is_valid_project_code(code)
        url = reverse("project_detail", kwargs={"code": code})
        assert resolve(url).url_name == "project_detail"
        assert url != reverse("my_projects")


def test_every_single_character_the_rule_allows_round_trips_through_the_url():
    """A sample across the whole of Unicode (every 7th code point), inside a code."""
    checked = 0
    for point in range(0, 0x110000, 7):
        if 0xD800 <= point <= 0xDFFF:
            continue
        code = normalize_project_code(f"A{chr(point)}1")
        if not is_valid_project_code(code):
            continue
        checked += 1
        url = reverse("project_detail", kwargs={"code": code})
        assert resolve(unquote(url)).kwargs == {"code": code}, hex(point)
    assert checked > 10_000


# ---------------------------------------------------------------- the model


def test_saving_stores_the_one_spelling(db):
    project = Project.objects.create(code=" ｑｔ－０００１\u200b", name="全角编号")
    assert project.code == "QT-0001"
    assert Project.objects.get(pk=project.pk).code == "QT-0001"
    assert Project.history.get(id=project.pk).code == "QT-0001"


def test_saving_refuses_an_invalid_code_and_stores_nothing(db):
    with pytest.raises(ValidationError) as refused:
        Project.objects.create(code="QT/9001", name="x")
    assert refused.value.message_dict == {"code": [MESSAGE]}
    assert not Project.objects.exists()


def test_full_clean_compares_the_normalised_code_with_the_stored_ones(db):
    Project.objects.create(code="QT-0001", name="已有")
    twin = Project(code="qt-0001\u200b", name="重复")
    with pytest.raises(ValidationError) as refused:
        twin.full_clean()
    assert list(refused.value.message_dict) == ["code"]
    assert twin.code == "QT-0001"
    with pytest.raises(ValidationError) as refused:
        Project(code="QT 9001", name="x").full_clean()
    assert refused.value.message_dict["code"] == [MESSAGE]


def test_the_demo_seeding_writes_valid_codes(db, today):
    seed_demo(projects=12, today=today, password="pw-for-tests-1")
    codes = list(Project.objects.values_list("code", flat=True))
    assert len(codes) == 12
    assert all(clean_project_code(code) == code for code in codes)


# ---------------------------------------------------------------- repairing old rows


@pytest.mark.parametrize(
    "stored, taken, expected",
    [
        ("QT/9001", set(), "QT-9001"),
        ("QT/9001", {"QT-9001"}, "QT-9001-2"),
        ("QT/9001", {"QT-9001", "QT-9001-2"}, "QT-9001-3"),
        ("qt-0001", set(), "QT-0001"),
        ("qt-0001", {"QT-0001"}, "QT-0001-2"),
        ("QT / 9001?", set(), "QT-9001"),  # a run of refused characters is one dash
        ("/9001", set(), "9001"),  # must start with a letter or digit
        ("???", set(), "P"),
        ("A" * 45, set(), "A" * MAX_LENGTH),
        ("A" * 45, {"A" * MAX_LENGTH}, "A" * (MAX_LENGTH - 2) + "-2"),
    ],
)
def test_a_stored_code_is_repaired_to_a_close_valid_one(stored, taken, expected):
    repaired = repair_project_code(stored, taken=taken)
    assert repaired == expected
    assert is_valid_project_code(repaired)


def test_the_repair_plan_keeps_right_codes_and_numbers_the_clashes():
    stored = {1: "QT-0001", 2: "qt-0001", 3: "QT/9001", 4: "QT-9001", 5: "QT\\9001", 6: "2025-钱塘-017"}
    assert plan_code_repairs(stored) == {2: "QT-0001-2", 3: "QT-9001-2", 5: "QT-9001-3"}
    assert plan_code_repairs({1: "QT-0001"}) == {}


def _migration():
    return importlib.import_module("projects.migrations.0004_project_codes")


def _store_raw(code, **fields):
    """A row as an older version stored it: bulk_create skips Project.save()."""
    fields.setdefault("name", f"旧项目{code}")
    return Project.objects.bulk_create([Project(code=code, **fields)])[0]


def test_the_data_migration_repairs_stored_codes(db, make_project):
    kept = make_project("QT-9001")
    slash = _store_raw("QT/9001")
    lower = _store_raw("qt-0002")
    edited = make_project("QT-0003")  # has history: the repair is recorded
    Project.objects.filter(pk=edited.pk).update(code="QT 0003\u200b")

    _migration().normalise_project_codes(django_apps, None)

    codes = dict(Project.objects.values_list("id", "code"))
    assert codes == {
        kept.id: "QT-9001", slash.id: "QT-9001-2", lower.id: "QT-0002", edited.id: "QT-0003",
    }
    latest = Project.history.filter(id=edited.pk).first()
    assert (latest.code, latest.history_change_reason, latest.history_user) == (
        "QT-0003", _migration().CHANGE_REASON, None,
    )
    assert not Project.history.filter(id=slash.pk).exists()  # baseline comes at its first edit
    # Running it again changes nothing.
    _migration().normalise_project_codes(django_apps, None)
    assert dict(Project.objects.values_list("id", "code")) == codes


# ---------------------------------------------------------------- pages and the digest


@pytest.fixture
def frozen(time_machine, today):
    time_machine.move_to(f"{today.isoformat()} 10:00 +08:00", tick=False)


@pytest.fixture
def red_projects(make_project, today, frozen):
    """A red project for every allowed shape, so each appears on the board and in the digest."""
    for code in ALLOWED:
        make_project(code, milestones={"signing": {"planned_date": today - timedelta(days=9)}})
    recompute_all(today=today - timedelta(days=14))
    recompute_all(today=today)


def test_every_allowed_shape_renders_on_every_page(client, role_users, red_projects):
    client.force_login(role_users["office"])
    board = client.get("/").content.decode()
    digest = client.get(reverse("digest_preview"))
    assert digest.status_code == 200
    for code in ALLOWED:
        link = reverse("project_detail", kwargs={"code": code})
        assert link in board, code
        listed = client.get(reverse("project_list"), {"q": code})
        assert listed.status_code == 200 and link in listed.content.decode(), code
        page = client.get(link)
        assert page.status_code == 200 and code in page.content.decode(), code
    assert reverse("project_detail", kwargs={"code": "MINE"}) in digest.content.decode()


def test_a_variant_spelling_in_the_url_finds_the_project(client, role_users, red_projects):
    client.force_login(role_users["office"])
    canonical = reverse("project_detail", kwargs={"code": "QT-0001"})
    for variant in ["qt-0001", "QT-0001\u200b", "ＱＴ－０００１"]:
        response = client.get(reverse("project_detail", kwargs={"code": variant}))
        assert (response.status_code, response["Location"]) == (302, canonical), variant
    row = client.get(
        reverse("milestone_row", kwargs={"code": "qt-0001", "type_code": "signing"}),
        headers={"HX-Request": "true"},
    )
    assert row.status_code == 200


@pytest.mark.parametrize("path", ["/projects/QT%2F9001/", "/projects/QT%009001/", "/projects/%20/"])
def test_a_code_the_rule_refuses_is_a_404_in_the_url(client, role_users, red_projects, path):
    client.force_login(role_users["office"])
    assert client.get(path).status_code == 404


def test_a_database_with_a_bad_code_works_again_after_the_migration(
    client, role_users, make_project, today, frozen, settings
):
    """The probe: QT/9001 stored by the old import broke the board, the list, the
    digest preview and send_digest; the data migration brings them back."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    office = role_users["office"]
    office.email = "office@qiantang.example"
    office.save()
    bad = _store_raw("QT/9001", name="x")
    make_project("QT-0001", milestones={"signing": {"planned_date": today - timedelta(days=3)}})
    recompute_all(today=today)

    _migration().normalise_project_codes(django_apps, None)

    client.force_login(office)
    for path in ["/", "/projects/?q=9001", reverse("digest_preview")]:
        response = client.get(path)
        assert response.status_code == 200, path
    assert reverse("project_detail", kwargs={"code": "QT-9001"}) in client.get("/").content.decode()
    summary = send_week(week=week_label(today), today=today)
    assert summary.failed == 0 and summary.sent >= 1
    assert any("QT-0001" in message.body for message in mail.outbox)
