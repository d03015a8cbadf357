"""Celery tasks of the ``households`` app: thin wrappers around ``households.importing.jobs``.

``import_job_preview`` and ``import_job_run`` are safe to deliver twice: each claims its job with a conditional
UPDATE (a pending preview: ``started_at`` empty → set; an import: queued → running), so a redelivered message
(late ack after a lost worker) finds nothing to claim and returns; the preview only parses and the engine is
idempotent anyway. A worker that dies mid-task leaves a stale heartbeat, and a message that never reaches a
worker leaves the job waiting: ``import_jobs_fail_stuck`` (beat, every minute) marks both failed and the user
reruns them. ``import_files_purge`` (beat, hourly) applies the retention of uploaded files.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from households.importing import jobs


@shared_task(
    name="households.tasks.import_job_preview",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=settings.IMPORT_PREVIEW_TIME_LIMIT,
    soft_time_limit=max(30, settings.IMPORT_PREVIEW_TIME_LIMIT - 60),
    ignore_result=True,
)
def import_job_preview(job_id: int) -> str:
    """Prepare the preview of one uploaded job; returns its status afterwards (or ``not-claimed``)."""
    job = jobs.import_job_preview_execute(job_id=job_id)
    return job.status if job is not None else "not-claimed"


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
    """Mark import jobs no worker will finish (stopped heartbeat, lost queue message) as failed; returns how many."""
    return jobs.import_jobs_fail_stuck()


@shared_task(name="households.tasks.import_files_purge", time_limit=900, soft_time_limit=840, ignore_result=True)
def import_files_purge() -> int:
    """Delete the stored files of import jobs past the retention; returns how many jobs were purged."""
    return jobs.import_files_purge()
