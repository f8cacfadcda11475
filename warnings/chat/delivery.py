"""Sending a robot's notices: at most once each, within the robot's rate, never sleeping.

One sender per robot at a time holds the robot's lease (a compare-and-set UPDATE on the
robot row; a lease older than CHAT_STALE_CLAIM_SECONDS belonged to a sender that died).
It claims the robot's due notices by compare-and-set, merges as many as one message holds,
POSTs it, and reads the answer's errcode:
- 0: the notices are sent;
- throttled (DingTalk 130101, WeCom 45009): the robot is paused (10 minutes, 1 minute) and
  the notices wait, untouched;
- any other errcode (DingTalk 310000 signature/keyword/IP, WeCom 93000 bad URL, …): the
  robot is marked refused, the office reads why in the admin; the notices wait until the
  robot is saved again or a test message gets through — never retried blindly;
- no answer, or not HTTP 200, or not JSON: the notices are failed and retried with
  exponential backoff (CHAT_BACKOFF_MAX_SECONDS at most) by later runs.
At most CHAT_RATE_PER_MINUTE messages go to one robot in any 60 seconds (ChatPost rows
count them); what does not fit waits for the next run, one minute later at most.
A sender killed between the POST and recording it leaves claimed notices: after the stale
time they are sent again and flagged `interrupted` (the group may see that message twice).
"""
from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib import error as urlerror
from urllib import request as urlrequest

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from ..models import ChatNotice, ChatPost, ChatRobot
from . import messages, protocols

logger = logging.getLogger(__name__)

State = ChatNotice.State
CLAIM_AT_MOST = 50


def stale_after() -> timedelta:
    return timedelta(seconds=settings.CHAT_STALE_CLAIM_SECONDS)


def rate_per_minute() -> int:
    return settings.CHAT_RATE_PER_MINUTE


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, … minutes after the n-th failed attempt, at most CHAT_BACKOFF_MAX_SECONDS."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), settings.CHAT_BACKOFF_MAX_SECONDS))


def host_of(kind: str) -> str:
    return settings.CHAT_DINGTALK_HOST if kind == protocols.DINGTALK else settings.CHAT_WECOM_HOST


# ---------------------------------------------------------------- the wire

Poster = Callable[[str, dict], tuple[int, bytes]]


def http_post(url: str, payload: dict) -> tuple[int, bytes]:
    """POST JSON; (HTTP status, body). Raises OSError when there is no answer at all."""
    data = json.dumps(payload, ensure_ascii=False).encode()
    req = urlrequest.Request(url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urlrequest.urlopen(req, timeout=settings.CHAT_TIMEOUT_SECONDS) as response:
            return response.status, response.read(65536)
    except urlerror.HTTPError as answer:  # an answer, if not a 200 one
        return answer.code, answer.read(65536)


# ---------------------------------------------------------------- one robot

@dataclass
class Report:
    robot_id: int
    outcome: str = "idle"  # idle, sent, busy, paused, refused, disabled, rate, throttle, transient
    posts: int = 0
    sent: int = 0
    detail: str = ""


def _lease(robot_id: int, token: str, now: datetime, *, forced: bool) -> bool:
    free = Q(lease_token="") | Q(leased_at__lt=now - stale_after())
    robots = ChatRobot.objects.filter(free, id=robot_id, enabled=True)
    if not forced:
        robots = robots.filter(refused=False).filter(Q(paused_until__isnull=True) | Q(paused_until__lte=now))
    return bool(robots.update(lease_token=token, leased_at=now))


def _release(robot_id: int, token: str) -> None:
    ChatRobot.objects.filter(id=robot_id, lease_token=token).update(lease_token="", leased_at=None)


def due_notices(robot_id: int, now: datetime):
    return ChatNotice.objects.filter(robot_id=robot_id).filter(
        Q(state=State.PENDING)
        | Q(state=State.FAILED, next_attempt_at__lte=now)
        | Q(state=State.SENDING, claimed_at__lt=now - stale_after())
    )


def deliver(robot_id: int, *, post: Poster = http_post, forced: bool = False) -> Report:
    """Send what is due for one robot now. `forced` (the admin's test message) tries a
    refused or paused robot once more; a success lifts the refusal and the pause."""
    now = timezone.now()
    report = Report(robot_id)
    token = uuid.uuid4().hex
    if not _lease(robot_id, token, now, forced=forced):
        robot = ChatRobot.objects.filter(id=robot_id).first()
        report.outcome = (
            "disabled" if robot is None or not robot.enabled
            else "refused" if robot.refused
            else "paused" if robot.paused_until and robot.paused_until > now
            else "busy"
        )
        return report
    try:
        robot = ChatRobot.objects.get(id=robot_id)
        while True:
            budget = rate_per_minute() - ChatPost.objects.filter(robot_id=robot_id, at__gt=now - timedelta(seconds=60)).count()
            if budget <= 0:
                report.outcome = "rate"
                break
            if not _send_one_message(robot, token, now, post, report):
                break
            now = timezone.now()
    finally:
        _release(robot_id, token)
    return report


def _send_one_message(robot: ChatRobot, token: str, now: datetime, post: Poster, report: Report) -> bool:
    """Claim, merge, POST, record. True when it sent and more may be due."""
    candidates = list(due_notices(robot.pk, now).order_by("event_at", "id")[:CLAIM_AT_MOST])
    if not candidates:
        return False
    message, count = messages.merged(robot.kind, [
        messages.Text(n.title, n.text, tuple(n.mobiles)) for n in candidates
    ])
    taken = candidates[:count]
    ids = [n.pk for n in taken]
    interrupted = [n.pk for n in taken if n.state == State.SENDING]
    claimed = ChatNotice.objects.filter(id__in=ids).exclude(state=State.SENT).update(
        state=State.SENDING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1,
    )
    if claimed != len(ids):  # someone else got there (only after our lease went stale)
        ChatNotice.objects.filter(id__in=ids, claim_token=token, state=State.SENDING).update(state=State.PENDING)
        report.outcome = "busy"
        return False
    if interrupted:
        ChatNotice.objects.filter(id__in=interrupted).update(interrupted=True)
        logger.warning("chat robot %s: resending %d notices of an interrupted send", robot.pk, len(interrupted))
    url = protocols.send_url(robot.kind, robot.webhook_url, host=host_of(robot.kind), secret=robot.secret,
                             timestamp_ms=int(timezone.now().timestamp() * 1000))
    payload = protocols.body(robot.kind, title=message.title, text=message.text, mobiles=list(message.mobiles))
    try:
        status, content = post(url, payload)
        answer = protocols.read_answer(robot.kind, status, content)
    except OSError as problem:
        answer = protocols.Answer(protocols.TRANSIENT, errmsg=f"{type(problem).__name__}: {problem}"[:500])
    finished = timezone.now()
    ChatPost.objects.create(robot=robot, at=finished, notices=len(ids), ok=answer.outcome == protocols.OK,
                            errcode=answer.errcode, errmsg=answer.errmsg)
    report.posts += 1
    mine = ChatNotice.objects.filter(id__in=ids, claim_token=token, state=State.SENDING)
    extra = {"event": "chat", "robot_id": robot.pk, "notices": len(ids), "outcome": answer.outcome,
             "errcode": answer.errcode}
    if answer.outcome == protocols.OK:
        mine.update(state=State.SENT, sent_at=finished, last_error="", claim_token="")
        ChatRobot.objects.filter(id=robot.pk).update(last_success_at=finished, refused=False, paused_until=None)
        report.sent += len(ids)
        report.outcome = "sent"
        logger.info("chat robot %s: sent %d notices in one message", robot.pk, len(ids), extra=extra)
        return True
    explanation = protocols.explain(robot.kind, answer)
    if answer.outcome == protocols.TRANSIENT:
        for notice in taken:  # each its own backoff, by its own attempts
            ChatNotice.objects.filter(id=notice.pk, claim_token=token, state=State.SENDING).update(
                state=State.FAILED, last_error=explanation, claim_token="",
                next_attempt_at=finished + backoff(notice.attempts + 1),
            )
        robot_fields = {}
    else:
        # Throttled or refused: nothing wrong with the notices; they wait as they were.
        mine.update(state=State.PENDING, last_error=explanation, claim_token="", attempts=F("attempts") - 1)
        robot_fields = (
            {"paused_until": finished + timedelta(seconds=answer.pause_seconds)}
            if answer.outcome == protocols.THROTTLE else {"refused": True}
        )
    ChatRobot.objects.filter(id=robot.pk).update(last_error=explanation, last_error_at=finished, **robot_fields)
    report.outcome = answer.outcome
    report.detail = explanation
    logger.warning("chat robot %s: %s", robot.pk, explanation, extra=extra)
    return False


# ---------------------------------------------------------------- every robot

def robots_with_due_notices(now: datetime) -> list[int]:
    """Robots a run should visit: enabled, not refused, not paused, with something due."""
    ready = ChatRobot.objects.filter(enabled=True, refused=False).filter(
        Q(paused_until__isnull=True) | Q(paused_until__lte=now)
    )
    due = (
        Q(notices__state=State.PENDING)
        | Q(notices__state=State.FAILED, notices__next_attempt_at__lte=now)
        | Q(notices__state=State.SENDING, notices__claimed_at__lt=now - stale_after())
    )
    return list(ready.filter(due).values_list("id", flat=True).distinct().order_by("id"))
