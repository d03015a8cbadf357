"""Celery tasks of the ``csr`` app: thin wrappers around its services."""

from __future__ import annotations

from celery import shared_task

from csr import reminders


@shared_task(name="csr.tasks.send_reminders", time_limit=15 * 60, soft_time_limit=14 * 60, ignore_result=True)
def send_reminders() -> dict[str, int]:
    """Beat (daily): email the CSR reminders due today (deadline steps, overdue realisation); never twice."""
    return reminders.reminders_send().as_dict()
