"""Exactly once: each recipient gets one digest per ISO week, whatever runs twice or fails."""
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connections

from qiantang_warnings.digest.delivery import (
    ALREADY,
    SENT,
    DigestSendError,
    message_id,
    send_one,
    send_to_user,
    send_week,
)
from qiantang_warnings.digest.recipients import digest_for_user, recipients
from qiantang_warnings.models import DigestDelivery, DigestPreference
from qiantang_warnings.tasks import enqueue_weekly_digest, send_weekly_digest

from . import backends as digest_backends
from .scenario import MONDAY, WEEK, at, district_week  # noqa: F401

NOW = at(2026, 11, 23, 8, 30)
EVERYONE = {"leader", "office", "cadre1", "cadre2", "liaison1"}


@pytest.fixture(autouse=True)
def flaky_mail(settings):
    settings.EMAIL_BACKEND = "tests.warnings.digest.backends.FlakyBackend"
    digest_backends.CONTROL.update(fail_next=0, delay=0.0)
    mail.outbox = []
    yield digest_backends.CONTROL
    digest_backends.CONTROL.update(fail_next=0, delay=0.0)


def recipient(username):
    return next(r for r in recipients() if r.user.username == username)


def delivery(username):
    return DigestDelivery.objects.get(user__username=username, week=WEEK)


@pytest.mark.django_db
def test_running_the_weekly_job_twice_sends_each_recipient_one_digest(district_week):
    first = send_week(week=WEEK, today=MONDAY, now=NOW)
    assert (first.sent, first.already) == (5, 0)
    assert sorted(m.to[0].split("@")[0] for m in mail.outbox) == sorted(EVERYONE)
    second = send_week(week=WEEK, today=MONDAY, now=NOW + timedelta(minutes=5))
    assert (second.sent, second.already) == (0, 5)
    assert len(mail.outbox) == 5
    assert set(DigestDelivery.objects.values_list("state", flat=True)) == {"sent"}
    # Next week is another digest.
    assert send_week(week="2026-W49", today=MONDAY + timedelta(days=7)).sent == 5


@pytest.mark.django_db
def test_the_message_id_is_stable_per_recipient_and_week(district_week):
    send_week(week=WEEK, today=MONDAY, now=NOW)
    leader = district_week.users["leader"]
    sent = next(m for m in mail.outbox if m.to == ["leader@qiantang.example"])
    assert sent.extra_headers["Message-ID"] == message_id(leader.pk, WEEK) == delivery("leader").message_id
    assert message_id(leader.pk, WEEK) != message_id(leader.pk, "2026-W49")


@pytest.mark.django_db
def test_an_smtp_failure_is_recorded_then_the_retry_sends_once(district_week, flaky_mail):
    flaky_mail["fail_next"] = 1
    cadre1 = recipient("cadre1")
    digest = digest_for_user(cadre1.user, week=WEEK, today=MONDAY)
    with pytest.raises(DigestSendError):
        send_one(cadre1, digest, now=NOW)
    failed = delivery("cadre1")
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert "SMTPServerDisconnected" in failed.last_error
    assert mail.outbox == []

    assert send_one(cadre1, digest, now=NOW + timedelta(minutes=1)) == SENT
    done = delivery("cadre1")
    assert (done.state, done.attempts, done.last_error, done.interrupted) == ("sent", 2, "", False)
    assert len(mail.outbox) == 1
    assert send_one(cadre1, digest, now=NOW + timedelta(minutes=2)) == ALREADY
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_celery_task_retries_an_smtp_failure_with_backoff_and_sends_once(district_week, flaky_mail, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    flaky_mail["fail_next"] = 1
    user = district_week.users["cadre2"]
    # Eager mode runs the retry at once instead of after the backoff.
    result = send_weekly_digest.apply(args=[user.pk, WEEK, MONDAY.isoformat()])
    assert result.get() == SENT
    assert (delivery("cadre2").state, delivery("cadre2").attempts) == ("sent", 2)
    assert len(mail.outbox) == 1
    assert send_weekly_digest.retry_backoff and send_weekly_digest.max_retries >= 3
    assert send_weekly_digest.apply(args=[user.pk, WEEK, MONDAY.isoformat()]).get() == ALREADY
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_fresh_claim_by_another_worker_is_left_alone(district_week):
    send_to_user(district_week.users["leader"].pk, week=WEEK, today=MONDAY, now=NOW)
    DigestDelivery.objects.filter(user__username="leader").update(state="sending", claimed_at=NOW)
    assert send_to_user(district_week.users["leader"].pk, week=WEEK, today=MONDAY,
                        now=NOW + timedelta(minutes=2)) == ALREADY
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_interrupted_send_is_resent_with_the_same_message_id_and_flagged(district_week, settings):
    settings.DIGEST_STALE_CLAIM_SECONDS = 900
    leader = district_week.users["leader"]
    # A worker claimed the digest and was killed before it could mark it sent.
    DigestDelivery.objects.create(user=leader, week=WEEK, email=leader.email, state="sending",
                                  claimed_at=NOW, attempts=1, message_id=message_id(leader.pk, WEEK))
    assert send_to_user(leader.pk, week=WEEK, today=MONDAY, now=NOW + timedelta(minutes=5)) == ALREADY
    assert mail.outbox == [], "five minutes: the claim may still be a slow send"

    assert send_to_user(leader.pk, week=WEEK, today=MONDAY, now=NOW + timedelta(minutes=16)) == SENT
    resent = delivery("leader")
    assert (resent.state, resent.interrupted, resent.attempts) == ("sent", True, 2)
    assert mail.outbox[0].extra_headers["Message-ID"] == message_id(leader.pk, WEEK)
    # The weekly sweep finds nothing left to do.
    assert DigestDelivery.objects.filter(week=WEEK, interrupted=True).count() == 1


@pytest.mark.django_db
def test_opting_out_and_empty_digests(district_week, make_project):
    from datetime import date

    from django.contrib.auth.models import Group, User

    from projects.roles import CADRE
    from qiantang_warnings.recompute import recompute_all

    DigestPreference.objects.create(user=district_week.users["cadre2"], enabled=False)
    calm = User.objects.create_user("cadre3", email="cadre3@qiantang.example")
    calm.groups.add(Group.objects.get(name=CADRE))
    DigestPreference.objects.create(user=calm, send_empty=False)
    make_project("QT-CALM", responsible_cadre=calm, milestones={"approval": {"planned_date": date(2027, 5, 1)}})
    recompute_all(today=MONDAY, now=at(2026, 11, 23, 1, 0))

    summary = send_week(week=WEEK, today=MONDAY, now=NOW)
    assert (summary.sent, summary.skipped_empty) == (4, 1)
    assert "cadre2@qiantang.example" not in [m.to[0] for m in mail.outbox]
    assert "cadre3@qiantang.example" not in [m.to[0] for m in mail.outbox]
    assert (delivery("cadre3").state, delivery("cadre3").empty) == ("skipped", True)
    assert not DigestDelivery.objects.filter(user__username="cadre2").exists()


@pytest.mark.django_db
def test_the_weekly_task_enqueues_only_recipients_not_yet_served(district_week, settings, monkeypatch):
    sent = []
    monkeypatch.setattr(send_weekly_digest, "delay", lambda *args: sent.append(args))
    monkeypatch.setattr("qiantang_warnings.tasks.local_today", lambda: MONDAY)
    send_to_user(district_week.users["leader"].pk, week=WEEK, today=MONDAY, now=NOW)
    assert enqueue_weekly_digest(WEEK) == {"week": WEEK, "enqueued": 4}
    assert {args[0] for args in sent} == {district_week.users[u].pk for u in EVERYONE - {"leader"}}
    assert {args[1:] for args in sent} == {(WEEK, MONDAY.isoformat())}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_sends_of_the_same_digest_deliver_it_once(district_week, flaky_mail):
    """Two workers (threads with their own PostgreSQL connections) race for one recipient."""
    flaky_mail["delay"] = 0.5  # the SMTP conversation is slow: both are in flight together
    user_id = district_week.users["cadre1"].pk
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def worker():
        try:
            barrier.wait(5)
            outcomes.append(send_to_user(user_id, week=WEEK, today=MONDAY, now=NOW))
        except Exception as error:  # reported below, never swallowed
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(outcomes) == [ALREADY, SENT]
    assert len(mail.outbox) == 1
    assert DigestDelivery.objects.filter(user_id=user_id, week=WEEK).count() == 1
    assert delivery("cadre1").attempts == 1


# ---- The send_digest command -------------------------------------------------------------

def call(*args, language="en"):
    """The command's output in `language` (it speaks the UI's language, Chinese by default)."""
    from io import StringIO

    from django.core.management import call_command
    from django.utils import translation

    out = StringIO()
    with translation.override(language):
        call_command("send_digest", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_send_digest_dry_run_prints_who_would_get_what_and_sends_nothing(district_week):
    out = call("--week", WEEK, "--dry-run")
    assert "leader <leader@qiantang.example> [district]: red 2 yellow 1 green 2" in out
    assert "liaison1 <liaison1@qiantang.example> [liaison]: department milestones 2" in out
    assert "dry run, nothing sent" in out
    assert mail.outbox == [] and not DigestDelivery.objects.exists()


@pytest.mark.django_db
def test_send_digest_speaks_chinese_by_default(district_week):
    out = call("--week", WEEK, "--dry-run", language="zh-hans")
    assert "leader <leader@qiantang.example> [district]：红2 黄1 绿2" in out
    assert f"{WEEK}：演练，未发送任何邮件" in out


@pytest.mark.django_db
def test_send_digest_to_one_user_then_everyone_then_again(district_week):
    assert "1 sent" in call("--week", WEEK, "--to", "cadre1")
    assert [m.to for m in mail.outbox] == [["cadre1@qiantang.example"]]
    assert "4 sent, 1 already sent" in call("--week", WEEK)
    assert "0 sent, 5 already sent" in call("--week", WEEK)
    assert len(mail.outbox) == 5
    assert "already sent" in call("--week", WEEK, "--dry-run", "--to", "leader")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-48"], "not an ISO week"),
        (["--week", "2026-W54"], "not an ISO week"),
        (["--week", WEEK, "--to", "nobody"], "not a digest recipient"),
    ],
)
def test_send_digest_refuses_bad_arguments(district_week, args, message):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        call(*args)
    assert mail.outbox == []


@pytest.mark.django_db
def test_send_digest_fails_loudly_when_smtp_fails(district_week, flaky_mail):
    from django.core.management.base import CommandError

    flaky_mail["fail_next"] = 1
    with pytest.raises(CommandError, match="1 digests failed"):
        call("--week", WEEK)
    assert len(mail.outbox) == 4
    assert "1 sent, 4 already sent" in call("--week", WEEK)


@pytest.mark.django_db
def test_a_decision_on_ones_proposal_is_sent_to_who_opted_out_of_all_green_digests(district_week, make_project):
    from datetime import date

    from django.contrib.auth.models import Group, User

    from projects.models import Milestone, ReplanProposal
    from projects.replans import replan_propose, replan_reject
    from projects.roles import CADRE
    from qiantang_warnings.recompute import recompute_all

    calm = User.objects.create_user("cadre3", email="cadre3@qiantang.example")
    calm.groups.add(Group.objects.get(name=CADRE))
    DigestPreference.objects.create(user=calm, send_empty=False)
    project = make_project("QT-CALM", responsible_cadre=calm, milestones={"approval": {"planned_date": date(2027, 5, 1)}})
    recompute_all(today=MONDAY, now=at(2026, 11, 23, 1, 0))
    proposal = replan_propose(Milestone.objects.get(project=project, milestone_type__code="approval"),
                              proposed_planned_date=date(2027, 8, 1), reason="设计变更", by=calm, today=MONDAY)
    replan_reject(proposal, by=district_week.users["office"], comment="不同意推迟", today=MONDAY)
    ReplanProposal.objects.filter(pk=proposal.pk).update(decided_at=at(2026, 11, 21, 10, 0))

    summary = send_week(week=WEEK, today=MONDAY, now=NOW, usernames=["cadre3"])
    assert (summary.sent, summary.skipped_empty) == (1, 0)
    assert (delivery("cadre3").state, delivery("cadre3").empty) == ("sent", False)
    assert "不同意推迟" in mail.outbox[0].body and "全部绿灯" not in mail.outbox[0].body


@pytest.mark.django_db
def test_every_delivery_is_logged_with_its_week_user_and_state(district_week, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="qiantang_warnings.digest.delivery"):
        call("--week", WEEK, "--to", "cadre1")
    (record,) = [r for r in caplog.records if getattr(r, "event", None) == "digest"]
    assert (record.week, record.user_id, record.state) == (WEEK, district_week.users["cadre1"].pk, "sent")
