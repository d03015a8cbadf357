"""``python manage.py recompute_gaps --year 2026 [--region 33.24] [--queue]``"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from reports import services
from reports.models import GapTrigger


class Command(BaseCommand):
    help = "Hitung ulang kesenjangan cakupan (Desil 1 belum terjangkau, tumpang tindih, kebutuhan) untuk satu tahun."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, default=None, help="Tahun penyaluran (bawaan: tahun ini).")
        parser.add_argument("--region", default="", help="Kode wilayah, mis. 33.24; kosong = seluruh registri.")
        parser.add_argument(
            "--queue", action="store_true", help="Kirim ke worker Celery alih-alih menghitung di proses ini."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        year = options["year"] or timezone.localdate().year
        if options["queue"]:
            run = services.gap_recompute_request(year=year, region_code=options["region"], trigger=GapTrigger.COMMAND)
            self.stdout.write(f"Perhitungan #{run.pk} dikirim ke antrean ({run.get_status_display()}).")
            return
        run = services.gap_recompute_now(year=year, region_code=options["region"], trigger=GapTrigger.COMMAND)
        counts = {k: v for k, v in run.totals.items() if not isinstance(v, dict)}
        self.stdout.write(
            json.dumps(
                {
                    "run": run.pk,
                    "year": run.year,
                    "region": run.region_code,
                    "status": run.status,
                    "seconds": round(run.duration_seconds or 0.0, 3),
                    "sources": run.sources,
                    **counts,
                    "unmet_need": run.totals.get("unmet_need", {}),
                },
                ensure_ascii=False,
            )
        )
