"""``python manage.py import_households``: the web import's engine, run in this process.

Creates an ImportJob (so the import appears in the history), runs it with ``jobs.import_job_execute`` (the
same claim/run/store path as the Celery task) and prints, as its LAST stdout line, one JSON object with the
family and person counts. A refused file exits non-zero with the engine's message.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from households.importing import jobs, report
from households.importing.types import DTKS, DTSEN, FAMILY, PERSON
from households.models import ImportStatus
from tkpk.exceptions import DomainError
from tkpk.identifiers import IdentifierError, dotted_region_code, normalize_region_code
from tkpk.models import Region
from tkpk.scoping import Role, scope_for

# The account recorded as "diimpor oleh" when no --user is given (inactive: it can never log in).
SYSTEM_USERNAME = "impor-baris-perintah"
COUNT_KEYS = ("created", "updated", "unchanged", "rejected", "warnings")


class Command(BaseCommand):
    help = (
        "Impor berkas P3KE (keluarga + individu), DTKS atau DTSEN ke registri dengan mesin impor yang sama "
        "dengan halaman web. Baris terakhir keluaran adalah JSON jumlah keluarga/anggota."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, choices=["p3ke", "dtks", "dtsen"], help="Sumber data.")
        parser.add_argument("file", nargs="?", type=Path, help="Berkas DTKS/DTSEN (.xlsx atau .csv).")
        parser.add_argument("--families", type=Path, help="Berkas keluarga P3KE (.xlsx atau .csv).")
        parser.add_argument("--persons", type=Path, help="Berkas individu P3KE (.xlsx atau .csv).")
        parser.add_argument("--snapshot", help="Label snapshot (bawaan: SUMBER TANGGAL, mis. 'P3KE 2024-06-30').")
        parser.add_argument("--date", help="Tanggal data YYYY-MM-DD (bawaan: hari ini).")
        parser.add_argument(
            "--region", help="Kode wilayah TKPK, mis. 33.24 (bawaan: wilayah sekretariat pengguna --user)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Periksa dan hitung saja; registri tidak berubah.")
        parser.add_argument("--errors", type=Path, help="Tulis laporan kesalahan ke berkas .xlsx ini.")
        parser.add_argument("--user", help="Nama pengguna yang dicatat sebagai pengimpor (akun sekretariat).")

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        files = self._files(source, options)
        snapshot_date = self._date(options["date"])
        user = self._user(options["user"])
        region = self._region(options["region"], user, explicit_user=bool(options["user"]))
        label = options["snapshot"] or f"{source.upper()} {snapshot_date.isoformat()}"

        try:
            job = jobs.import_job_create(
                actor=user,
                source=source,
                files=files,
                snapshot_label=label,
                snapshot_date=snapshot_date,
                region=region,
                dry_run=options["dry_run"],
            )
            if job.duplicate_of_id:
                self.stderr.write(jobs.duplicate_message(job=job).removesuffix(" Lanjutkan?") + " (dilanjutkan)")
            job = jobs.import_job_confirm(job=job, accept_duplicate=True, send=False, preview_required=False)
        except DomainError as exc:
            raise CommandError(exc.message) from exc

        self.stderr.write(f"Impor #{job.pk}: {source.upper()} '{label}', wilayah {region.dotted_code} {region.name}")
        finished = jobs.import_job_execute(job_id=job.pk, progress=self._progress(options["verbosity"]))
        if finished is None:  # cannot happen: the job was queued by this process just above
            raise CommandError(f"Impor #{job.pk} diambil proses lain.")
        if options["errors"]:
            rows = report.error_report_write(job=finished, target=str(options["errors"]))
            self.stderr.write(f"Laporan kesalahan: {options['errors']} ({rows} baris)")
        if finished.status != ImportStatus.SUCCEEDED:
            raise CommandError(f"Impor #{finished.pk} gagal: {finished.message}")

        summary = finished.summary
        self.stdout.write(
            f"Impor #{finished.pk} selesai{' (uji coba, registri tidak berubah)' if finished.dry_run else ''}: "
            f"{finished.rows_done} baris dalam {finished.duration_seconds or 0:.1f} dtk"
        )
        result = {key: {k: int(summary.get(key, {}).get(k, 0)) for k in COUNT_KEYS} for key in ("families", "persons")}
        self.stdout.write(json.dumps(result, sort_keys=False))

    # ------------------------------------------------------------------------------------------- arguments

    def _files(self, source: str, options: dict[str, Any]) -> dict[str, Path]:
        if source == "p3ke":
            if options["file"] is not None:
                raise CommandError("Untuk P3KE gunakan --families BERKAS --persons BERKAS, bukan berkas posisi.")
            if not options["families"] or not options["persons"]:
                raise CommandError("Impor P3KE membutuhkan --families dan --persons.")
            files = {FAMILY: options["families"], PERSON: options["persons"]}
        else:
            if options["file"] is None or options["families"] or options["persons"]:
                raise CommandError(f"Impor {source.upper()} membutuhkan satu berkas: --source {source} BERKAS.")
            files = {DTKS if source == "dtks" else DTSEN: options["file"]}
        for path in files.values():
            if not path.is_file():
                raise CommandError(f"Berkas tidak ditemukan: {path}")
        return files

    def _date(self, value: str | None) -> dt.date:
        if not value:
            return timezone.localdate()
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise CommandError(f"Tanggal '{value}' tidak sah; gunakan YYYY-MM-DD.") from exc

    def _user(self, username: str | None) -> Any:
        User = get_user_model()
        if username:
            try:
                return User.objects.get(username=username)
            except User.DoesNotExist as exc:
                raise CommandError(f"Pengguna '{username}' tidak ada.") from exc
        user, created = User.objects.get_or_create(
            username=SYSTEM_USERNAME, defaults={"is_active": False, "first_name": "Impor baris perintah"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user

    def _region(self, code: str | None, user: Any, *, explicit_user: bool) -> Region:
        secretariat = [g.region_code for g in scope_for(user).grants_for(Role.SECRETARIAT)] if explicit_user else []
        if explicit_user and not secretariat and not user.is_superuser:
            raise CommandError(f"Pengguna '{user.username}' bukan anggota sekretariat TKPK.")
        if code:
            try:
                plain = normalize_region_code(code)
            except IdentifierError as exc:
                raise CommandError(f"Kode wilayah '{code}' tidak sah.") from exc
            if secretariat and not any(plain.startswith(own) for own in secretariat):
                raise CommandError(
                    f"Wilayah {dotted_region_code(plain)} di luar wilayah sekretariat '{user.username}'."
                )
        elif len(secretariat) == 1:
            plain = secretariat[0]
        else:
            raise CommandError("Sebutkan --region (mis. 33.24) atau --user dengan satu wilayah sekretariat.")
        region = Region.objects.filter(code=plain).first()
        if region is None:
            raise CommandError(
                f"Wilayah {dotted_region_code(plain)} belum dimuat; jalankan dulu: manage.py load_regions {code}"
            )
        return region

    def _progress(self, verbosity: int) -> Any:
        if verbosity < 1:
            return None

        def show(done: int, total: int) -> None:
            # The engine reports rows read (every 20,000 and at the end of each file); the checks and the
            # one-transaction write follow.
            self.stderr.write(f"  ... {done} baris terbaca")

        return show
