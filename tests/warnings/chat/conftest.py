"""Chat-push fixtures: a fake robot server on loopback that the settings point both hosts at,
robots configured as the office would, and a project that turns red on demand."""
from datetime import timedelta

import pytest

from qiantang_warnings.models import ChatRobot, MobileNumber
from qiantang_warnings.recompute import recompute_projects

from .fake_robot import FakeRobotServer

DING_TOKEN = "ding0token0for0tests"
DING_SECRET = "SEC0123456789abcdef"
WECOM_KEY = "wecom-key-for-tests-0001"


@pytest.fixture
def robot_server(settings):
    server = FakeRobotServer().start()
    server.add(DING_TOKEN, "dingtalk", DING_SECRET)
    server.add(WECOM_KEY, "wecom")
    settings.CHAT_DINGTALK_HOST = server.url
    settings.CHAT_WECOM_HOST = server.url
    settings.SITE_URL = "https://xm.qiantang.example"
    yield server
    server.stop()


@pytest.fixture
def dingtalk_robot(db, robot_server):
    return ChatRobot.objects.create(
        name="钱塘区重大项目推进群", kind="dingtalk",
        webhook_url=f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}", secret=DING_SECRET,
    )


@pytest.fixture
def wecom_robot(db, robot_server):
    return ChatRobot.objects.create(
        name="投促局企业微信群", kind="wecom",
        webhook_url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}",
    )


@pytest.fixture
def turn_red(make_project, role_users, today):
    """turn_red(code): a project led by cadre1 (mobile 13800001111), yellow, then red."""
    MobileNumber.objects.get_or_create(user=role_users["cadre1"], defaults={"mobile": "13800001111"})

    def factory(code="QT-0101", **fields):
        fields.setdefault("responsible_cadre", role_users["cadre1"])
        project = make_project(code, milestones={"signing": {"planned_date": today + timedelta(days=5)}}, **fields)
        recompute_projects([project.id], today=today)  # '' → yellow: a first colour is no turn
        recompute_projects([project.id], today=today + timedelta(days=6))  # yellow → red
        project.refresh_from_db()
        assert project.colour == "red"
        return project

    return factory
