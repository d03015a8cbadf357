"""The beat schedule is set up by an idempotent command, not by hand in the admin."""

from __future__ import annotations

from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django_celery_beat.models import PeriodicTask

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    return out.getvalue()


def test_nightly_gap_recompute_is_scheduled_once_and_rerun_changes_nothing() -> None:
    first = _run()
    assert "reports-gap-nightly: dibuat" in first
    task = PeriodicTask.objects.get(name="reports-gap-nightly")
    assert task.task == "reports.tasks.gap_nightly"
    assert task.crontab is not None and task.interval is None
    assert (task.crontab.hour, task.crontab.minute) == ("1", "30")
    count = PeriodicTask.objects.count()

    second = _run()
    assert "reports-gap-nightly: tidak berubah" in second
    assert PeriodicTask.objects.count() == count


def test_changed_schedule_updates_the_existing_task() -> None:
    _run()
    schedule = dict(settings.CELERY_BEAT_SCHEDULE)
    schedule["reports-gap-nightly"] = {"task": "reports.tasks.gap_nightly", "schedule": crontab(hour=3, minute=0)}
    with override_settings(CELERY_BEAT_SCHEDULE=schedule):
        assert "reports-gap-nightly: diperbarui" in _run()
    task = PeriodicTask.objects.get(name="reports-gap-nightly")
    assert (task.crontab.hour, task.crontab.minute) == ("3", "0")
    assert PeriodicTask.objects.filter(name="reports-gap-nightly").count() == 1
