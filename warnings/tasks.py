"""Celery tasks: thin wrappers over the recompute (in-process or spread), digest, chat-push, ledger and
escalation-ladder services."""
from datetime import date

from celery import shared_task
from django.utils import timezone

from projects.models import Project
from qiantang.clock import local_today

from .chat import delivery as chat_delivery
from .chat.outbox import weekly_summaries
from .chat.push import push
from .digest.delivery import DigestSendError, pending_user_ids, send_to_user
from .digest.weeks import week_label
from .escalations.services import ladder_suggest
from .ledger.freeze import freeze_month
from .recompute import recompute_all
from .spread import recompute_chunk, recompute_run_start, spreads


@shared_task(bind=True, name="qiantang_warnings.tasks.recompute_all_warnings")
def recompute_all_warnings(self) -> dict:
    """Beat's recompute of every project: in-process for a district, spread in chunks over
    the workers (on the queue this task came from) for a city or a province."""
    today = local_today()
    if not spreads(Project.objects.count()):
        summary = recompute_all(today=today)
        return {
            "as_of": summary.as_of.isoformat(),
            "examined": summary.examined,
            "updated": summary.updated,
            "status_changes": summary.status_changes,
        }
    run, chunks = recompute_run_start(today=today)
    if run is None:
        return {"as_of": today.isoformat(), "skipped": "a run for this day is under way"}
    queue = (self.request.delivery_info or {}).get("routing_key")
    for index, project_ids in enumerate(chunks):
        recompute_warnings_chunk.apply_async((run.pk, index, project_ids, today.isoformat(), run.due_only), queue=queue)
    return {"as_of": today.isoformat(), "run": run.pk, "chunks": len(chunks)}


@shared_task(name="qiantang_warnings.tasks.recompute_warnings_chunk")
def recompute_warnings_chunk(run_id: int, index: int, project_ids: list[int], as_of: str, due_only: bool = False) -> dict:
    summary = recompute_chunk(run_id=run_id, index=index, project_ids=project_ids, today=date.fromisoformat(as_of),
                              due_only=due_only)
    if summary is None:
        return {"run": run_id, "chunk": index, "already": True}
    return {"run": run_id, "chunk": index, "examined": summary.examined, "updated": summary.updated}


# ---- The weekly digest (预警周报): enqueue per recipient; each send is exactly-once by its
# DigestDelivery row (see digest/delivery.py), so beat firing twice or a retried task sends nothing twice.

@shared_task(name="qiantang_warnings.tasks.enqueue_weekly_digest")
def enqueue_weekly_digest(week: str | None = None) -> dict:
    today = local_today()
    week = week or week_label(today)
    user_ids = pending_user_ids(week=week, now=timezone.now())
    for user_id in user_ids:
        send_weekly_digest.delay(user_id, week, today.isoformat())
    return {"week": week, "enqueued": len(user_ids)}


@shared_task(
    name="qiantang_warnings.tasks.send_weekly_digest",
    autoretry_for=(DigestSendError,),  # SMTP refused or unreachable: the row is marked failed
    retry_backoff=60,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=6,
)
def send_weekly_digest(user_id: int, week: str, today: str) -> str:
    return send_to_user(user_id, week=week, today=date.fromisoformat(today))


# ---- Chat push (群机器人): beat runs push_chat every minute and a commit that recorded a red
# or handed an item over asks for one at once; each robot's notices are sent by its own task.
# Exactly-once and the rate limit live in the rows (chat/delivery.py), not in task retries:
# a failed send is retried by a later run after its backoff, a throttled robot after its pause.

@shared_task(name="qiantang_warnings.tasks.push_chat", ignore_result=True)
def push_chat() -> dict:
    return push(today=local_today(), send=lambda robot_id: deliver_chat.delay(robot_id))


@shared_task(name="qiantang_warnings.tasks.deliver_chat", ignore_result=True)
def deliver_chat(robot_id: int) -> dict:
    report = chat_delivery.deliver(robot_id)
    return {"robot": robot_id, "outcome": report.outcome, "sent": report.sent, "posts": report.posts}


@shared_task(name="qiantang_warnings.tasks.chat_weekly_summary", ignore_result=True)
def chat_weekly_summary(week: str | None = None) -> dict:
    today = local_today()
    week = week or week_label(today)
    created = weekly_summaries(week=week, today=today, now=timezone.now())
    push_chat.delay()
    return {"week": week, "summaries": created}


# ---- The monthly ledger: beat asks on the 28th-31st at 23:50 and on the 1st at 00:20; the
# service freezes only on the month's last day (or, catching up, the 1st), once per month.

@shared_task(name="qiantang_warnings.tasks.freeze_monthly_ledger", ignore_result=True)
def freeze_monthly_ledger() -> dict:
    ledger = freeze_month(today=local_today())
    return {"ledger": ledger.pk if ledger else None}


# ---- The escalation ladder: beat asks daily after the night's recompute; suggestions are
# unique per (project, step, red spell), so a second run writes nothing.

@shared_task(name="qiantang_warnings.tasks.suggest_escalations", ignore_result=True)
def suggest_escalations() -> dict:
    return {"suggestions": ladder_suggest(today=local_today())}
