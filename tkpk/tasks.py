"""Celery tasks of the ``tkpk`` app: thin wrappers around services.

``ping`` proves the worker path end to end (broker → worker → database it is configured for);
``regions_load_task`` loads Kemendagri regions in the background (same upsert as ``load_regions``).
"""

from __future__ import annotations

import socket
from typing import Any

from celery import Task, shared_task
from django.db import connection

from tkpk.regions import regions_load


@shared_task(bind=True, name="tkpk.tasks.ping", time_limit=30, soft_time_limit=20, ignore_result=False)
def ping(self: Task, token: str) -> dict[str, Any]:
    """Write nothing; report which worker and which database answered."""
    return {
        "pong": token,
        "database": connection.vendor,
        "database_name": str(connection.settings_dict["NAME"]),
        "hostname": self.request.hostname or socket.gethostname(),
        "eager": bool(self.request.is_eager),
    }


@shared_task(
    name="tkpk.tasks.regions_load_task",
    # regions_load is an idempotent upsert in one transaction: a rerun after a lost worker is safe.
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=15 * 60,
    soft_time_limit=14 * 60,
    ignore_result=False,
)
def regions_load_task(code: str) -> dict[str, int]:
    """Upsert the region ``code`` (e.g. ``33.24``) with its ancestors and descendants; return the counts."""
    result = regions_load(code=code)
    return {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "total": result.total,
    }
