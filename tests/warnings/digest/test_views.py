"""/digest/preview/ shows the signed-in user's own digest; /digest/preferences/ changes only their own."""
import pytest
from django.urls import reverse

from qiantang_warnings.models import DigestPreference

from .scenario import MONDAY, district_week  # noqa: F401

pytestmark = pytest.mark.django_db
PREVIEW = "/digest/preview/"
PREFERENCES = "/digest/preferences/"


@pytest.fixture(autouse=True)
def frozen_monday(monkeypatch):
    monkeypatch.setattr("qiantang_warnings.digest.views.local_today", lambda: MONDAY)


def test_the_urls_are_mounted_under_digest():
    assert reverse("digest_preview") == PREVIEW
    assert reverse("digest_preferences") == PREFERENCES


@pytest.mark.parametrize("url", [PREVIEW, PREFERENCES])
def test_signed_out_visitors_are_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    response = client.post(url, {"enabled": ""})
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert not DigestPreference.objects.exists()


def test_cadre1_previews_their_own_digest_and_not_cadre2s(client, district_week, django_assert_max_num_queries):
    client.force_login(district_week.users["cadre1"])
    with django_assert_max_num_queries(20):
        response = client.get(PREVIEW)
    assert response.status_code == 200
    page = response.content.decode()
    assert "我的预警周报" in page and "第48周" in page
    assert 'data-project="QT-RED"' in page and 'data-project="QT-YEL"' in page
    assert "QT-OLD" not in page, "cadre2's project"
    assert 'href="/digest/preview/"' in page, "the nav link"


def test_the_leader_previews_the_district(client, district_week):
    client.force_login(district_week.users["leader"])
    page = client.get(PREVIEW).content.decode()
    assert "全区概况" in page and "QT-OLD" in page and "区领导批示督办" in page


def test_a_user_without_an_email_is_told_they_will_not_receive_it(client, district_week):
    user = district_week.users["liaison1"]
    user.email = ""
    user.save()
    client.force_login(user)
    assert "没有登记邮箱" in client.get(PREVIEW).content.decode()


def test_preferences_default_to_on_and_a_user_turns_off_empty_digests(client, district_week):
    cadre1 = district_week.users["cadre1"]
    client.force_login(cadre1)
    page = client.get(PREFERENCES).content.decode()
    assert page.count("checked") == 2, "both on by default"
    response = client.post(PREFERENCES, {"enabled": "on"}, follow=True)
    assert "周报设置已保存" in response.content.decode()
    preference = DigestPreference.objects.get(user=cadre1)
    assert (preference.enabled, preference.send_empty) == (True, False)
    client.post(PREFERENCES, {})
    preference.refresh_from_db()
    assert (preference.enabled, preference.send_empty) == (False, False)


def test_a_user_cannot_change_someone_elses_preferences(client, district_week):
    cadre1, cadre2 = district_week.users["cadre1"], district_week.users["cadre2"]
    DigestPreference.objects.create(user=cadre2, enabled=True, send_empty=True)
    client.force_login(cadre1)
    client.post(PREFERENCES, {"user": cadre2.pk, "enabled": "", "send_empty": ""})
    assert DigestPreference.objects.filter(user=cadre2, enabled=True, send_empty=True).exists()
    assert DigestPreference.objects.get(user=cadre1).enabled is False
    assert DigestPreference.objects.count() == 2


def test_other_methods_are_refused(client, district_week):
    client.force_login(district_week.users["cadre1"])
    assert client.put(PREFERENCES).status_code == 405
    assert client.post(PREVIEW).status_code == 405


def test_a_user_without_a_digest_role_is_told_so_instead_of_all_green(client, db):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("visitor", email="visitor@qiantang.example"))
    page = client.get(PREVIEW).content.decode()
    assert "没有预警周报" in page and "全部绿灯" not in page


def test_cadre1_previews_the_decisions_on_their_proposals(client, district_week, django_assert_max_num_queries):
    client.force_login(district_week.users["cadre1"])
    with django_assert_max_num_queries(20):
        page = client.get(PREVIEW).content.decode()
    assert 'data-section="my-replans"' in page
    assert 'data-replan="QT-REC" data-state="approved"' in page and "同意，按新计划推进" in page
    assert 'data-replan="QT-RED" data-state="rejected"' in page and "请先补充联审意见" in page
    assert "QT-OLD" not in page, "cadre2's proposal"
    assert 'data-section="replan-queue"' not in page


def test_the_office_previews_the_queue_count_and_the_projects_green_after_re_planning(client, district_week, settings):
    settings.SITE_URL = "https://yujing.example.gov.cn"
    client.force_login(district_week.users["office"])
    page = client.get(PREVIEW).content.decode()
    assert 'data-section="replan-queue"' in page and 'data-pending-replans="1"' in page
    assert 'href="https://yujing.example.gov.cn/replans/"' in page
    assert 'data-section="green-after-replan"' in page and 'data-project="QT-REC"' in page
    assert 'data-section="my-replans"' not in page, "the office proposed nothing"
