"""The Celery tasks are thin wrappers: run eagerly through Celery's call machinery against the
fake robot server, they collect, hand each robot to its sender and send, once."""
import pytest
from django.utils import timezone

from qiantang.celery import app
from qiantang_warnings.chat.outbox import collect
from qiantang_warnings.models import ChatNotice
from qiantang_warnings.tasks import chat_weekly_summary, deliver_chat, push_chat
from tests.conftest import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    app.conf.task_always_eager = True  # push_chat's deliver_chat.delay() and the summary's push run here
    yield
    app.conf.task_always_eager = False


def test_push_chat_collects_and_delivers_through_deliver_chat(eager, dingtalk_robot, robot_server, turn_red):
    turn_red("QT-0101")
    assert push_chat.apply().get() == {"notices": 1, "robots": 1}
    assert len(robot_server.received) == 1 and "QT-0101" in robot_server.received[0].text
    assert ChatNotice.objects.get().state == "sent"
    assert push_chat.apply().get() == {"notices": 0, "robots": 0}  # beat's next minute: nothing more
    assert len(robot_server.received) == 1


def test_deliver_chat_sends_one_robot_s_due_notices_and_reports(dingtalk_robot, robot_server, turn_red):
    turn_red("QT-0101")
    collect(now=timezone.now(), today=TODAY)
    assert len(robot_server.received) == 0
    report = deliver_chat.apply(args=[dingtalk_robot.pk]).get()
    assert report == {"robot": dingtalk_robot.pk, "outcome": "sent", "sent": 1, "posts": 1}
    assert len(robot_server.received) == 1
    assert deliver_chat.apply(args=[dingtalk_robot.pk]).get() == {
        "robot": dingtalk_robot.pk, "outcome": "idle", "sent": 0, "posts": 0}


def test_chat_weekly_summary_queues_one_summary_per_robot_and_pushes_it(eager, dingtalk_robot, robot_server, turn_red):
    turn_red("QT-0101")
    push_chat.apply()  # the red, on its own
    assert chat_weekly_summary.apply(args=["2026-W48"]).get() == {"week": "2026-W48", "summaries": 1}
    assert len(robot_server.received) == 2
    assert "全区预警周报（2026-W48）" in robot_server.received[1].text
    assert ChatNotice.objects.get(event="weekly").state == "sent"
    # Beat again (this week is the default): nothing created, nothing counted, nothing sent.
    assert chat_weekly_summary.apply().get() == {"week": "2026-W48", "summaries": 0}
    assert len(robot_server.received) == 2
