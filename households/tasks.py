"""Celery tasks of the ``households`` app: thin wrappers around ``households.importing.jobs``.

``import_job_run`` is safe to deliver twice: it claims the job with a conditional UPDATE (queued → running),
so a redelivered message (late ack after a lost worker) finds nothing to claim and returns, and the engine
is idempotent anyway. A worker that dies mid-import leaves the job ``running`` with a stale heartbeat:
``import_jobs_fail_stuck`` (beat, every minute) marks it failed; the user reruns it.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from households.importing import jobs


@shared_task(
    name="households.tasks.import_job_run",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=settings.IMPORT_TASK_TIME_LIMIT,
    soft_time_limit=max(60, settings.IMPORT_TASK_TIME_LIMIT - 120),
    ignore_result=True,
)
def import_job_run(job_id: int) -> str:
    """Run one queued import job; returns its final status (or ``not-claimed``)."""
    job = jobs.import_job_execute(job_id=job_id)
    return job.status if job is not None else "not-claimed"


@shared_task(name="households.tasks.import_jobs_fail_stuck", time_limit=120, soft_time_limit=100, ignore_result=True)
def import_jobs_fail_stuck() -> int:
    """Mark running import jobs whose worker stopped heartbeating as failed; returns how many."""
    return jobs.import_jobs_fail_stuck()
