"""The digest through a real SMTP conversation (aiosmtpd in this process): headers, both parts, links."""
import pytest

from qiantang_warnings.digest.delivery import send_week
from qiantang_warnings.models import DigestDelivery

from .scenario import MONDAY, WEEK, at, district_week  # noqa: F401
from .smtp_catcher import smtp_catcher

pytestmark = pytest.mark.django_db
SITE = "https://yujing.example.gov.cn"


@pytest.fixture
def catcher(settings):
    with smtp_catcher() as catcher:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = catcher.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.SITE_URL = SITE
        yield catcher


def subject(message) -> str:
    # Django folds a long encoded Subject onto a continuation line; clients drop the fold's space.
    return message["Subject"].strip()


def by_recipient(catcher):
    return {message["To"]: message for message in catcher.messages}


def test_the_smtp_server_receives_one_digest_per_recipient_with_its_headers(district_week, catcher):
    summary = send_week(week=WEEK, today=MONDAY, now=at(2026, 11, 23, 8, 30))
    assert summary.sent == 5
    received = by_recipient(catcher)
    assert set(received) == {f"{u}@qiantang.example" for u in ("leader", "office", "cadre1", "cadre2", "liaison1")}
    leader = received["leader@qiantang.example"]
    assert subject(leader) == "预警周报（第48周）：红灯2个，黄灯1个"
    assert leader["Message-ID"] == f"<digest.{WEEK}.{district_week.users['leader'].pk}@qiantang.local>"
    assert leader["List-Unsubscribe"] == f"<{SITE}/digest/preferences/>"
    assert leader["Auto-Submitted"] == "auto-generated"
    assert "noreply@qiantang.local" in leader["From"]
    assert leader.get_content_type() == "multipart/alternative"
    text = leader.get_body(("plain",)).get_content()
    html = leader.get_body(("html",)).get_content()
    for part in (text, html):
        assert f"{SITE}/projects/QT-OLD/" in part
        assert "过会逾期175天" in part
        assert f"{SITE}/digest/preview/" in part
    assert "<table" in html and "<table" not in text
    # Every link in the HTML part is absolute.
    import re

    links = re.findall(r'href="([^"]+)"', html)
    assert links and all(link.startswith(SITE + "/") for link in links), links


def test_the_liaison_mail_lists_the_departments_milestones(district_week, catcher):
    send_week(week=WEEK, today=MONDAY, usernames=["liaison1"])
    (message,) = catcher.messages
    assert subject(message) == "预警周报（第48周）：本单位需关注节点2个"
    text = message.get_body(("plain",)).get_content()
    assert "区发改局负责的节点" in text
    assert "QT-OLD" in text and "QT-YEL" in text and "QT-RED" not in text


def test_a_refusing_server_leaves_a_failed_record_and_the_next_run_delivers(district_week, catcher):
    catcher.refuse_next = 1
    first = send_week(week=WEEK, today=MONDAY, usernames=["cadre1", "cadre2"])
    assert (first.sent, first.failed) == (1, 1)
    failed = DigestDelivery.objects.get(state="failed")
    assert "451" in failed.last_error
    second = send_week(week=WEEK, today=MONDAY, usernames=["cadre1", "cadre2"])
    assert (second.sent, second.already) == (1, 1)
    assert sorted(m["To"] for m in catcher.messages) == ["cadre1@qiantang.example", "cadre2@qiantang.example"]
    assert DigestDelivery.objects.get(user=failed.user).attempts == 2
