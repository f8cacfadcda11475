"""Celery tasks: thin wrappers over the recompute service."""
from celery import shared_task

from .recompute import recompute_all
from .selectors import local_today


@shared_task(name="qiantang_warnings.tasks.recompute_all_warnings")
def recompute_all_warnings() -> dict:
    summary = recompute_all(today=local_today())
    return {
        "as_of": summary.as_of.isoformat(),
        "examined": summary.examined,
        "updated": summary.updated,
        "status_changes": summary.status_changes,
    }
