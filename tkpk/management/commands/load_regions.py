from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tkpk.identifiers import IdentifierError
from tkpk.regions import regions_load


class Command(BaseCommand):
    help = "Muat wilayah Kemendagri (mis. 33.24 untuk Kendal, 33 untuk Jawa Tengah) beserta induk dan turunannya."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("codes", nargs="+", help="Kode provinsi atau kabupaten/kota, bertitik atau tidak.")

    def handle(self, *args: Any, **options: Any) -> None:
        for code in options["codes"]:
            try:
                result = regions_load(code=code)
            except (IdentifierError, ValueError) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"{code}: {result.total} wilayah (baru {result.created}, berubah {result.updated}, "
                f"tetap {result.unchanged})"
            )
