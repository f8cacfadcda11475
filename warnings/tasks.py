"""Celery tasks: thin wrappers over the recompute and digest services."""
from datetime import date

from celery import shared_task
from django.utils import timezone

from qiantang.clock import local_today

from .digest.delivery import DigestSendError, pending_user_ids, send_to_user
from .digest.weeks import week_label
from .recompute import recompute_all


@shared_task(name="qiantang_warnings.tasks.recompute_all_warnings")
def recompute_all_warnings() -> dict:
    summary = recompute_all(today=local_today())
    return {
        "as_of": summary.as_of.isoformat(),
        "examined": summary.examined,
        "updated": summary.updated,
        "status_changes": summary.status_changes,
    }


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
