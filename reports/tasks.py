"""Celery tasks of the ``reports`` app: thin wrappers around ``reports.services``.

``gap_run_execute_task`` is safe to deliver twice: it claims its run with a conditional UPDATE (queued →
running), so a redelivered message finds nothing to claim; the computation itself replaces derived rows.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from reports import services


@shared_task(
    name="reports.tasks.gap_run_execute",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=settings.GAP_TASK_TIME_LIMIT,
    soft_time_limit=max(60, settings.GAP_TASK_TIME_LIMIT - 60),
    ignore_result=True,
)
def gap_run_execute_task(run_id: int) -> str:
    """Execute one queued gap computation; returns its final status (or ``not-claimed``)."""
    run = services.gap_run_execute(run_id=run_id)
    return run.status if run is not None else "not-claimed"


@shared_task(name="reports.tasks.gap_nightly", time_limit=120, soft_time_limit=100, ignore_result=True)
def gap_nightly() -> list[int]:
    """Beat (nightly): queue the recomputation of the whole registry for the current year(s)."""
    return services.gap_nightly()


@shared_task(name="reports.tasks.periodic_report", acks_late=True, time_limit=20 * 60, soft_time_limit=19 * 60)
def periodic_report_task(report_id: int) -> str:
    """Generate one queued periodic report (PDF + .xlsx); returns its final status (or ``not-claimed``)."""
    from reports import periodic

    report = periodic.periodic_report_execute(report_id=report_id)
    return report.status if report is not None else "not-claimed"
