"""``python manage.py gap_summary --region 33.24 --level kecamatan --year 2026`` prints JSON rows."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports import selectors
from reports.engine import region_level
from tkpk.exceptions import DomainError


class Command(BaseCommand):
    help = "Cetak ringkasan kesenjangan (JSON) per wilayah pada satu tingkat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", default="", help="Kode wilayah induk, mis. 33.24.")
        parser.add_argument("--level", default="", help="provinsi, kabupaten, kecamatan atau desa.")
        parser.add_argument("--year", type=int, default=None, help="Tahun (bawaan: tahun terbaru yang dihitung).")

    def handle(self, *args: Any, **options: Any) -> None:
        year = options["year"] or selectors.default_year()
        try:
            region = selectors.normalise_region(options["region"])
            level = selectors.parse_level(options["level"], default=min(region_level(region) + 1, 4))
            rows = selectors.summary_rows(user=None, region=region, level=level, year=year, unscoped=True)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
