from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tkpk.models import AccessAction, PersonalDataAccess


def personal_data_access_record(
    *,
    user: Any,
    action: AccessAction,
    object_type: str,
    object_ids: Sequence[int],
    region_code: str = "",
    detail: str = "",
    ip_address: str | None = None,
) -> PersonalDataAccess:
    """Log a view, reveal or export of personal records (UU 27/2022: who, when, which records)."""
    return PersonalDataAccess.objects.create(
        user=user,
        action=action,
        object_type=object_type,
        object_ids=list(object_ids),
        record_count=len(object_ids),
        region_code=region_code,
        detail=detail[:300],
        ip_address=ip_address,
    )


def beat_schedule_sync() -> dict[str, str]:
    """Write ``settings.CELERY_BEAT_SCHEDULE`` into django-celery-beat's tables (idempotent): each entry
    becomes one PeriodicTask with its crontab or interval; a changed entry is updated, an unchanged one is
    left alone. Entries added by hand in the admin are not touched. Returns {name: created|updated|unchanged}."""
    from celery.schedules import crontab
    from django.conf import settings
    from django.db import transaction
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    outcome: dict[str, str] = {}
    with transaction.atomic():
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            schedule = entry["schedule"]
            fields: dict[str, Any] = {"task": entry["task"], "enabled": True, "crontab": None, "interval": None}
            if isinstance(schedule, crontab):
                fields["crontab"], _ = CrontabSchedule.objects.get_or_create(
                    minute=str(schedule._orig_minute),
                    hour=str(schedule._orig_hour),
                    day_of_week=str(schedule._orig_day_of_week),
                    day_of_month=str(schedule._orig_day_of_month),
                    month_of_year=str(schedule._orig_month_of_year),
                    timezone=settings.CELERY_TIMEZONE,
                )
            else:
                seconds = int(schedule.total_seconds() if hasattr(schedule, "total_seconds") else float(schedule))
                fields["interval"], _ = IntervalSchedule.objects.get_or_create(
                    every=seconds, period=IntervalSchedule.SECONDS
                )
            task = PeriodicTask.objects.filter(name=name).first()
            if task is None:
                PeriodicTask.objects.create(name=name, **fields)
                outcome[name] = "created"
                continue
            changed = [key for key, value in fields.items() if getattr(task, key) != value]
            if changed:
                for key in changed:
                    setattr(task, key, fields[key])
                task.save()
                outcome[name] = "updated"
            else:
                outcome[name] = "unchanged"
    return outcome
