"""``python manage.py setup_schedules``: the beat schedule from settings into the database (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tkpk.services import beat_schedule_sync

_LABELS = {"created": "dibuat", "updated": "diperbarui", "unchanged": "tidak berubah"}


class Command(BaseCommand):
    help = "Pasang jadwal tugas berkala (hitung ulang kesenjangan tiap malam, dll.) ke celery beat; aman diulang."

    def handle(self, *args: Any, **options: Any) -> None:
        for name, outcome in beat_schedule_sync().items():
            self.stdout.write(f"{name}: {_LABELS[outcome]}")
