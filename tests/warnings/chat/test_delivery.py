"""The chat push against a fake robot server on loopback that checks signature and rate:
a red sends exactly one message; an outage then recovery delivers everything once; a
throttled robot backs off; a wrong secret is reported, not retried forever; 20 a minute."""
from datetime import timedelta

import pytest
from django.utils import timezone

from projects.coordination import services
from projects.models import Department
from qiantang.celery import app
from qiantang_warnings.chat import delivery
from qiantang_warnings.chat.outbox import collect, weekly_summaries
from qiantang_warnings.chat.push import push
from qiantang_warnings.models import ChatNotice, ChatRobot, MobileNumber, StatusChange
from qiantang_warnings.recompute import recompute_projects

from .conftest import DING_SECRET

pytestmark = pytest.mark.django_db


def _now():
    return timezone.now()


def run_push(today):
    """What beat's minute run does, with each robot's sender run here instead of on a worker."""
    return push(today=today, send=delivery.deliver)


def test_a_red_sends_exactly_one_message_naming_the_reason_linking_the_project_and_mentioning_the_cadre(
    dingtalk_robot, robot_server, turn_red, today
):
    turn_red("QT-0101", name="澜康微电子先进封装项目")
    run_push(today)
    run_push(today)  # beat again, a retried task: nothing more
    delivery.deliver(dingtalk_robot.pk)

    assert len(robot_server.received) == 1
    message = robot_server.received[0]
    assert message.body["msgtype"] == "markdown"
    assert "红灯预警：QT-0101 澜康微电子先进封装项目" in message.text
    assert "项目签约逾期1天" in message.text
    assert "https://xm.qiantang.example/projects/QT-0101/" in message.text
    assert "@13800001111" in message.text and message.mobiles == ["13800001111"]
    assert message.text.startswith("【重大项目三色预警】")
    notice = ChatNotice.objects.get()
    assert (notice.state, notice.attempts, notice.event) == ("sent", 1, "red")
    dingtalk_robot.refresh_from_db()
    assert dingtalk_robot.last_success_at is not None and not dingtalk_robot.refused


def test_a_first_colour_and_an_unmentionable_cadre_are_no_trouble(dingtalk_robot, robot_server, make_project, today):
    project = make_project("QT-0102", milestones={"signing": {"planned_date": today - timedelta(days=3)}})
    recompute_projects([project.id], today=today)  # '' → red: the project's first computation
    run_push(today)
    assert robot_server.received == []


def test_a_red_recorded_twice_in_a_minute_sends_one_message(dingtalk_robot, robot_server, turn_red, today, time_machine):
    project = turn_red("QT-0101")
    # Back to yellow and red again 30 seconds later (an edit undone, say).
    time_machine.shift(timedelta(seconds=30))
    StatusChange.objects.create(project=project, from_colour="red", to_colour="yellow", as_of=today, at=_now())
    StatusChange.objects.create(project=project, from_colour="yellow", to_colour="red", as_of=today, at=_now())
    run_push(today)
    assert len(robot_server.received) == 1
    # Red again two minutes later is news.
    time_machine.shift(timedelta(minutes=2))
    StatusChange.objects.create(project=project, from_colour="yellow", to_colour="red", as_of=today, at=_now())
    run_push(today)
    assert len(robot_server.received) == 2


def test_an_outage_then_recovery_delivers_everything_once(dingtalk_robot, robot_server, turn_red, today, time_machine):
    robot_server.stop()  # the robot or the network is down
    turn_red("QT-0101")
    run_push(today)
    notice = ChatNotice.objects.get()
    assert notice.state == "failed" and notice.attempts == 1
    assert "稍后自动重试" in notice.last_error
    dingtalk_robot.refresh_from_db()
    assert "稍后自动重试" in dingtalk_robot.last_error

    turn_red("QT-0102")  # more happens while it is down
    time_machine.shift(timedelta(seconds=61))
    run_push(today)
    assert dict(ChatNotice.objects.values_list("project__code", "state")) == {"QT-0101": "failed", "QT-0102": "failed"}
    first = ChatNotice.objects.get(project__code="QT-0101")
    assert first.attempts == 2 and first.next_attempt_at - _now() > timedelta(seconds=110)  # backing off

    robot_server.start()  # same port: back up
    run_push(today)
    assert robot_server.received == []  # QT-0101's backoff has not run out; QT-0102 neither
    time_machine.shift(timedelta(minutes=3))
    run_push(today)
    run_push(today)
    assert len(robot_server.received) == 1  # both, merged into one message, once
    assert "2条提醒" in robot_server.received[0].text
    assert "QT-0101" in robot_server.received[0].text and "QT-0102" in robot_server.received[0].text
    assert set(ChatNotice.objects.values_list("state", flat=True)) == {"sent"}


def test_a_throttled_robot_pauses_ten_minutes_without_sleeping_then_sends(
    dingtalk_robot, robot_server, turn_red, today, time_machine
):
    turn_red("QT-0101")
    robot_server.answers = [130101]
    run_push(today)
    dingtalk_robot.refresh_from_db()
    assert dingtalk_robot.paused_until - _now() > timedelta(minutes=9)
    assert "130101" in dingtalk_robot.last_error
    notice = ChatNotice.objects.get()
    assert (notice.state, notice.attempts) == ("pending", 0)  # the notice did nothing wrong

    requests = robot_server.requests
    time_machine.shift(timedelta(minutes=5))
    run_push(today)
    assert robot_server.requests == requests  # paused: not even asked
    time_machine.shift(timedelta(minutes=6))
    run_push(today)
    assert len(robot_server.received) == 1
    assert ChatNotice.objects.get().state == "sent"


def test_a_wrong_secret_is_reported_and_held_not_retried_forever(dingtalk_robot, robot_server, turn_red, today, time_machine):
    ChatRobot.objects.filter(pk=dingtalk_robot.pk).update(secret="SECwrong")
    turn_red("QT-0101")
    run_push(today)
    assert robot_server.refusals == [310000]
    dingtalk_robot.refresh_from_db()
    assert dingtalk_robot.refused
    assert "310000" in dingtalk_robot.last_error and "加签密钥" in dingtalk_robot.last_error
    for _ in range(5):
        time_machine.shift(timedelta(hours=1))
        run_push(today)
    assert robot_server.requests == 1  # asked once, then held for the office
    assert ChatNotice.objects.get().state == "pending"

    # The office fixes the secret; the held message goes out.
    dingtalk_robot.secret = DING_SECRET
    dingtalk_robot.refused = False
    dingtalk_robot.save()
    run_push(today)
    assert len(robot_server.received) == 1


def test_a_dropped_connection_or_gateway_error_is_retried(dingtalk_robot, robot_server, turn_red, today, time_machine):
    turn_red("QT-0101")
    robot_server.answers = ["drop", ("http", 502)]
    run_push(today)
    time_machine.shift(timedelta(minutes=2))
    run_push(today)
    assert ChatNotice.objects.get().attempts == 2
    time_machine.shift(timedelta(minutes=5))
    run_push(today)
    assert len(robot_server.received) == 1 and ChatNotice.objects.get().state == "sent"


def test_a_burst_is_merged_and_no_robot_gets_more_than_20_messages_a_minute(
    wecom_robot, robot_server, today, time_machine
):
    # 30 notices, each too big to share a WeCom message with another: 30 messages are needed.
    big = "事项说明" * 300
    ChatNotice.objects.bulk_create([
        ChatNotice(robot=wecom_robot, event="item_overdue", event_key=f"k{i}", event_at=_now(), title=f"第{i}条", text=big)
        for i in range(30)
    ])
    report = delivery.deliver(wecom_robot.pk)
    assert (report.outcome, report.posts) == ("rate", 20)
    assert robot_server.refusals == []  # never asked the robot for a 21st in the minute
    assert ChatNotice.objects.filter(state="sent").count() == 20
    time_machine.shift(timedelta(seconds=61))
    run_push(today)
    assert len(robot_server.received) == 30 and robot_server.refusals == []
    assert set(ChatNotice.objects.values_list("state", flat=True)) == {"sent"}

    # Small ones are merged: 12 reds, one message.
    ChatNotice.objects.bulk_create([
        ChatNotice(robot=wecom_robot, event="red", event_key=f"r{i}", event_at=_now(), title=f"红灯{i}", text=f"#### 红灯 QT-{i:04d}")
        for i in range(12)
    ])
    delivery.deliver(wecom_robot.pk)
    assert len(robot_server.received) == 31
    assert "12条提醒" in robot_server.received[-1].text


def test_a_wecom_message_that_must_mention_goes_as_text_with_the_mobiles(wecom_robot, robot_server, turn_red, today):
    turn_red("QT-0101")
    run_push(today)
    message = robot_server.received[0]
    assert message.body["msgtype"] == "text"
    assert message.mobiles == ["13800001111"]
    assert "https://xm.qiantang.example/projects/QT-0101/" in message.text and "**" not in message.text


def test_one_sender_per_robot_a_dead_senders_lease_and_claims_are_taken_over(
    dingtalk_robot, robot_server, turn_red, today, time_machine
):
    turn_red("QT-0101")
    collect(now=_now(), today=today)
    # Another sender holds the lease: this one leaves the robot alone.
    ChatRobot.objects.filter(pk=dingtalk_robot.pk).update(lease_token="x" * 32, leased_at=_now())
    assert delivery.deliver(dingtalk_robot.pk).outcome == "busy"
    assert robot_server.requests == 0
    # It died after claiming the notice (perhaps after the POST): after the stale time the
    # notice is sent again and flagged, so the office knows the group may have it twice.
    ChatNotice.objects.update(state="sending", claim_token="y" * 32, claimed_at=_now(), attempts=1)
    time_machine.shift(timedelta(seconds=121))
    report = delivery.deliver(dingtalk_robot.pk)
    assert report.sent == 1
    notice = ChatNotice.objects.get()
    assert notice.state == "sent" and notice.interrupted and notice.attempts == 2


def test_a_robot_hears_only_of_its_scope_and_only_what_it_asked_for(
    robot_server, turn_red, today, role_users
):
    housing = Department.objects.create(name="区住建局")
    other = Department.objects.create(name="区发改局")
    district = ChatRobot.objects.create(name="全区", kind="wecom", webhook_url="https://q/cgi-bin/webhook/send?key=wecom-key-for-tests-0001")
    led = ChatRobot.objects.create(name="住建", kind="wecom", scope="department", department=housing,
                                   webhook_url="https://q/cgi-bin/webhook/send?key=wecom-key-for-tests-0001")
    unrelated = ChatRobot.objects.create(name="发改", kind="wecom", scope="department", department=other,
                                         webhook_url="https://q/cgi-bin/webhook/send?key=wecom-key-for-tests-0001")
    quiet = ChatRobot.objects.create(name="不要红灯", kind="wecom", notify_red=False,
                                     webhook_url="https://q/cgi-bin/webhook/send?key=wecom-key-for-tests-0001")
    project = turn_red("QT-0101", lead_department=housing)
    team = ChatRobot.objects.create(name="专班", kind="wecom", scope="project", project=project,
                                    webhook_url="https://q/cgi-bin/webhook/send?key=wecom-key-for-tests-0001")
    collect(now=_now(), today=today)
    told = set(ChatNotice.objects.values_list("robot__name", flat=True))
    assert told == {district.name, led.name}  # the team's robot was made after the red
    assert unrelated.name not in told and quiet.name not in told and team.name not in told


def test_items_handed_to_a_department_and_overdue_reach_its_group_mentioning_its_liaisons(
    wecom_robot, robot_server, make_project, role_users, today
):
    housing = Department.objects.create(name="区住建局")
    housing.liaisons.add(role_users["liaison1"])
    MobileNumber.objects.create(user=role_users["liaison1"], mobile="13900002222")
    ChatRobot.objects.filter(pk=wecom_robot.pk).update(scope="department", department=housing)
    project = make_project("QT-0201", name="中策橡胶智能工厂", responsible_cadre=role_users["cadre1"])
    services.item_raise(project=project, need="施工许可需消防设计审查意见", department=housing,
                               deadline=today + timedelta(days=3), by=role_users["cadre1"], today=today)
    run_push(today)
    assert len(robot_server.received) == 1
    message = robot_server.received[0]
    assert "协调事项交办：区住建局" in message.text and "施工许可需消防设计审查意见" in message.text
    assert message.mobiles == ["13900002222"]

    later = today + timedelta(days=5)  # past the deadline, still unanswered
    run_push(later)
    run_push(later)
    assert len(robot_server.received) == 2
    assert "协调事项逾期：区住建局" in robot_server.received[1].text and "已逾期2天" in robot_server.received[1].text


def test_monday_summary_once_per_robot_for_its_scope(dingtalk_robot, wecom_robot, robot_server, turn_red, today):
    turn_red("QT-0101")
    week = "2026-W48"
    assert weekly_summaries(week=week, today=today, now=_now()) == 2
    assert weekly_summaries(week=week, today=today, now=_now()) == 0  # beat twice: nothing created, none counted
    assert ChatNotice.objects.filter(event="weekly").count() == 2
    text = ChatNotice.objects.filter(event="weekly", robot=dingtalk_robot).get().text
    assert "全区预警周报（2026-W48）" in text and "红灯 1" in text and "QT-0101" in text
    # A robot added later that week gets its own on the next ask, and only it is counted.
    ChatRobot.objects.create(name="后加的群", kind="wecom", webhook_url=wecom_robot.webhook_url)
    assert weekly_summaries(week=week, today=today, now=_now()) == 1
    assert ChatNotice.objects.filter(event="weekly").count() == 3


def test_a_commit_that_recorded_a_red_asks_a_worker_for_a_push_at_once(
    dingtalk_robot, turn_red, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, *a, **k: sent.append(name))
    with django_capture_on_commit_callbacks(execute=True):
        turn_red("QT-0101")
    assert sent == ["qiantang_warnings.tasks.push_chat"]


def test_with_no_robot_listening_a_red_asks_for_nothing(turn_red, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, *a, **k: sent.append(name))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        turn_red("QT-0101")
    assert sent == [] and callbacks == []


def test_an_unreachable_broker_loses_nothing_beat_sends_a_minute_later(
    dingtalk_robot, robot_server, turn_red, today, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(name, *args, **kwargs):
        raise ConnectionRefusedError("redis down")

    monkeypatch.setattr(app, "send_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        turn_red("QT-0101")  # the request that recorded the red does not fail
    run_push(today)  # beat's next minute
    assert len(robot_server.received) == 1


# ---- WeCom's own refusals, answered by the fake server as the real robot would

def _admin_listing(client, role_users):
    from django.urls import reverse

    client.force_login(role_users["office"])
    return client.get(reverse("admin:warnings_chatrobot_changelist")).content.decode()


def test_wecom_45009_pauses_the_robot_a_minute_and_the_message_waits_then_goes_once(
    wecom_robot, robot_server, turn_red, today, time_machine, client, role_users
):
    import time

    from .conftest import WECOM_KEY

    # Something else posted 20 messages to the same group robot this minute: WeCom answers 45009.
    robot_server.robots[WECOM_KEY].sent_times = [time.time()] * 20
    turn_red("QT-0101")
    run_push(today)
    assert robot_server.refusals == [45009] and robot_server.received == []
    wecom_robot.refresh_from_db()
    assert timedelta(seconds=50) < wecom_robot.paused_until - _now() <= timedelta(seconds=60)
    assert "45009" in wecom_robot.last_error and not wecom_robot.refused
    notice = ChatNotice.objects.get()
    assert (notice.state, notice.attempts) == ("pending", 0)  # the notice did nothing wrong
    assert "限流中" in _admin_listing(client, role_users)

    requests = robot_server.requests
    time_machine.shift(timedelta(seconds=30))
    run_push(today)
    assert robot_server.requests == requests  # paused: not even asked, no worker sleeping
    time_machine.shift(timedelta(seconds=31))
    run_push(today)
    run_push(today)
    assert len(robot_server.received) == 1 and "QT-0101" in robot_server.received[0].text
    assert robot_server.refusals == [45009]
    notice.refresh_from_db()
    assert (notice.state, notice.attempts) == ("sent", 1)


def test_wecom_93000_holds_the_robot_shows_why_in_the_admin_and_is_not_retried_forever(
    wecom_robot, robot_server, turn_red, today, time_machine, client, role_users
):
    from .conftest import WECOM_KEY

    good_url = wecom_robot.webhook_url
    ChatRobot.objects.filter(pk=wecom_robot.pk).update(
        webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=copied-wrong-0001")
    turn_red("QT-0101")
    run_push(today)
    assert robot_server.refusals == [93000]
    wecom_robot.refresh_from_db()
    assert wecom_robot.refused
    assert "93000" in wecom_robot.last_error and "Webhook地址无效" in wecom_robot.last_error
    listing = _admin_listing(client, role_users)
    assert "被拒绝，待处理" in listing and "93000" in listing
    for _ in range(5):
        time_machine.shift(timedelta(hours=1))
        run_push(today)
    assert robot_server.requests == 1  # asked once, then held for the office
    assert ChatNotice.objects.get().state == "pending"

    # The office pastes the right address; the held message goes out, once.
    wecom_robot.webhook_url = good_url
    wecom_robot.refused = False
    wecom_robot.save()
    run_push(today)
    run_push(today)
    assert len(robot_server.received) == 1 and robot_server.received[0].credential == WECOM_KEY
    assert ChatNotice.objects.get().state == "sent"


def test_events_older_than_the_lookback_are_never_pushed(dingtalk_robot, robot_server, turn_red, today, time_machine, settings):
    """README: reds (and items handed over) are read back CHAT_LOOKBACK_HOURS only."""
    assert settings.CHAT_LOOKBACK_HOURS == 48
    turn_red("QT-0101")  # recorded, but no push runs for two days and a minute
    time_machine.shift(timedelta(hours=48, minutes=1))
    run_push(today)
    assert robot_server.requests == 0 and not ChatNotice.objects.exists()
    settings.CHAT_LOOKBACK_HOURS = 72  # the window alone decides: a longer one still finds it
    run_push(today)
    assert len(robot_server.received) == 1 and "QT-0101" in robot_server.received[0].text
