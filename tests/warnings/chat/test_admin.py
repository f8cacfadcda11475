"""The office configures robots in the admin, sends a test message, reads each robot's
last success and last error; webhooks, secrets and mobile numbers are the office's only."""
import pytest
from django.urls import reverse

from qiantang_warnings.models import ChatNotice, ChatRobot, MobileNumber

from .conftest import DING_SECRET, DING_TOKEN

pytestmark = pytest.mark.django_db

ADD = "admin:warnings_chatrobot_add"
CHANGELIST = "admin:warnings_chatrobot_changelist"


@pytest.fixture
def office(client, role_users):
    client.force_login(role_users["office"])
    return client


def robot_form(**fields):
    form = {
        "name": "钱塘区重大项目推进群", "kind": "dingtalk",
        "webhook_url": f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}",
        "secret": DING_SECRET, "enabled": "on", "scope": "district", "department": "", "project": "",
        "notify_red": "on", "notify_item_assigned": "on", "notify_item_overdue": "on", "notify_weekly": "on",
    }
    form.update(fields)
    return {k: v for k, v in form.items() if v is not None}


def test_the_office_adds_a_robot_and_a_bad_webhook_is_refused_in_chinese(office, robot_server):
    response = office.post(reverse(ADD), robot_form(webhook_url="https://oapi.dingtalk.com/robot/send"))
    assert response.status_code == 200
    assert "钉钉机器人的地址须含access_token参数" in response.content.decode()
    response = office.post(reverse(ADD), robot_form(kind="wecom", webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-key-1234", secret="SECx"))
    assert "企业微信群机器人没有加签密钥" in response.content.decode()
    response = office.post(reverse(ADD), robot_form(scope="department"))
    assert "范围为责任单位时请选择责任单位" in response.content.decode()
    assert not ChatRobot.objects.exists()

    response = office.post(reverse(ADD), robot_form())
    assert response.status_code == 302
    assert ChatRobot.objects.get().secret == DING_SECRET


def test_a_test_message_reaches_the_group_and_says_so(office, dingtalk_robot, robot_server):
    response = office.post(reverse(CHANGELIST), {"action": "send_test_message", "_selected_action": [dingtalk_robot.pk]},
                           follow=True)
    assert "测试消息已发送" in response.content.decode()
    assert len(robot_server.received) == 1 and "测试消息" in robot_server.received[0].text
    dingtalk_robot.refresh_from_db()
    assert dingtalk_robot.last_success_at is not None


def test_a_wrong_secret_shows_in_the_admin_and_saving_the_fix_sends_what_was_held(
    office, dingtalk_robot, robot_server, django_capture_on_commit_callbacks
):
    ChatRobot.objects.filter(pk=dingtalk_robot.pk).update(secret="SECwrong")
    response = office.post(reverse(CHANGELIST), {"action": "send_test_message", "_selected_action": [dingtalk_robot.pk]},
                           follow=True)
    page = response.content.decode()
    assert "机器人拒绝了消息（错误码310000" in page and "加签密钥" in page
    listing = office.get(reverse(CHANGELIST)).content.decode()
    assert "被拒绝，待处理" in listing and "310000" in listing
    assert ChatNotice.objects.get().state == "pending"  # held, not lost

    change = reverse("admin:warnings_chatrobot_change", args=[dingtalk_robot.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = office.post(change, robot_form(secret=DING_SECRET))
    assert response.status_code == 302
    dingtalk_robot.refresh_from_db()
    assert not dingtalk_robot.refused and dingtalk_robot.last_error == ""
    assert len(callbacks) == 1  # a push is asked for once the fix is saved
    page = office.get(change).content.decode()
    assert "最近10次发送" in page and "310000" in page


@pytest.mark.parametrize("username", ["leader", "cadre1", "liaison1"])
def test_only_the_office_sees_robots_their_messages_and_mobile_numbers(client, role_users, dingtalk_robot, username):
    client.force_login(role_users[username])
    for url in (reverse(CHANGELIST), reverse("admin:warnings_chatrobot_change", args=[dingtalk_robot.pk]),
                reverse("admin:warnings_chatnotice_changelist"),
                reverse("admin:auth_user_change", args=[role_users["cadre1"].pk])):  # where mobiles are
        response = client.get(url)
        # A leader is staff and is refused; cadres and liaisons are not staff and are sent to sign in.
        assert response.status_code == (403 if username == "leader" else 302), url
    assert client.post(reverse(CHANGELIST), {"action": "send_test_message",
                                             "_selected_action": [dingtalk_robot.pk]}).status_code in (302, 403)
    assert not ChatNotice.objects.exists()


def test_the_office_records_a_mobile_number_on_the_user_page(office, role_users):
    user = role_users["cadre1"]
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = office.get(url)
    assert page.status_code == 200 and "手机号" in page.content.decode()
    form = {
        "username": user.username, "password": user.password, "is_active": "on", "date_joined_0": "2026-11-01",
        "date_joined_1": "09:00:00", "groups": [g.pk for g in user.groups.all()],
        "mobile_number-TOTAL_FORMS": "1", "mobile_number-INITIAL_FORMS": "0",
        "mobile_number-MIN_NUM_FORMS": "0", "mobile_number-MAX_NUM_FORMS": "1",
        "mobile_number-0-mobile": "1380000", "mobile_number-0-user": user.pk,
    }
    response = office.post(url, form)
    assert response.status_code == 200 and "请输入11位手机号" in response.content.decode()
    assert not MobileNumber.objects.exists()
    form["mobile_number-0-mobile"] = "13800001111"
    assert office.post(url, form).status_code == 302
    assert MobileNumber.objects.get(user=user).mobile == "13800001111"
