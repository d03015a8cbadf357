"""The real worker path: broker → celery worker subprocess → the pytest-django test database.

Runs only in the PostgreSQL pass (``make test``); the SQLite pass skips/deselects it.
"""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import CeleryWorker
from tkpk.models import Region, RegionLevel
from tkpk.tasks import ping, regions_load_task

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker]

RESULT_TIMEOUT = 120


def test_settings_are_not_eager_with_a_broker(celery_worker_process: CeleryWorker) -> None:
    assert settings.CELERY_BROKER_URL
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    assert celery_worker_process.process.poll() is None


def test_ping_is_answered_by_the_worker_on_the_test_database(
    transactional_db: None, celery_worker_process: CeleryWorker
) -> None:
    token = uuid.uuid4().hex
    result = ping.delay(token)
    payload = result.get(timeout=RESULT_TIMEOUT)

    assert payload["pong"] == token
    assert payload["eager"] is False
    assert payload["database"] == "postgresql"
    assert payload["database_name"] == connection.settings_dict["NAME"] == celery_worker_process.database_name
    assert payload["hostname"] == celery_worker_process.nodename


def test_regions_load_task_writes_regions_seen_by_the_test(
    transactional_db: None, celery_worker_process: CeleryWorker
) -> None:
    assert not Region.objects.exists()

    counts = regions_load_task.delay("33.24").get(timeout=RESULT_TIMEOUT)

    # Jawa Tengah + Kab. Kendal + 20 kecamatan + 286 desa/kelurahan.
    assert counts == {"created": 308, "updated": 0, "unchanged": 0, "total": 308}
    kendal = Region.objects.filter(code__startswith="3324")
    assert kendal.filter(level=RegionLevel.KECAMATAN).count() == 20
    assert kendal.filter(level=RegionLevel.DESA).count() == 286
    assert Region.objects.get(code="3324").level == RegionLevel.KABUPATEN
    assert Region.objects.get(code="33").level == RegionLevel.PROVINCE

    again = regions_load_task.delay("3324").get(timeout=RESULT_TIMEOUT)
    assert again == {"created": 0, "updated": 0, "unchanged": 308, "total": 308}
