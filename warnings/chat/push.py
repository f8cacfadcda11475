"""The chat push as the tasks run it: collect the events, then hand each robot with
something due to a sender. `push_soon` asks a worker for a run as soon as the current
transaction commits (a red recorded, an item handed over); beat's run every minute is the
safety net, so a message waits a minute at most when the broker was unreachable."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from django.db import transaction
from django.utils import timezone

from qiantang.celery import app

from ..models import ChatRobot
from .delivery import robots_with_due_notices
from .outbox import collect

logger = logging.getLogger(__name__)

PUSH_TASK = "qiantang_warnings.tasks.push_chat"


def push(*, today: date, send: Callable[[int], object]) -> dict:
    """Collect, then `send(robot_id)` for every robot with notices due (a task per robot)."""
    created = collect(now=timezone.now(), today=today)
    robot_ids = robots_with_due_notices(timezone.now())
    for robot_id in robot_ids:
        send(robot_id)
    return {"notices": created, "robots": len(robot_ids)}


def _enqueue_push() -> None:
    try:
        app.send_task(PUSH_TASK)
    except Exception:  # the broker is down: beat's minute run will pick the events up
        logger.warning("chat push: could not reach the broker, beat's next run will send", exc_info=True)


def push_soon() -> None:
    """After this transaction commits, ask for a push, if any robot is listening."""
    if ChatRobot.objects.filter(enabled=True).exists():
        transaction.on_commit(_enqueue_push)
