"""``python manage.py import_interventions --program CODE FILE``: a program's deliveries from a spreadsheet.

The web upload's engine and job path, run in this process: creates the intervention ImportJob (it appears in the
program's upload history), runs it with ``jobs.import_job_execute`` and prints, as its LAST stdout line, one JSON
object ``{"created": n, "duplicates": n, "rejected": n}``. A refused file exits non-zero with the engine's message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from households.importing import jobs, report
from households.models import ImportStatus
from programs.importing import intervention_job_create
from programs.models import Program
from tkpk.exceptions import DomainError


class Command(BaseCommand):
    help = (
        "Impor penyaluran program dari berkas .xlsx/.csv (templat program) dengan mesin impor yang sama dengan "
        'halaman web. Baris terakhir keluaran adalah JSON {"created", "duplicates", "rejected"}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Berkas penyaluran (.xlsx atau .csv).")
        parser.add_argument("--program", required=True, help="Kode program.")
        parser.add_argument("--year", type=int, help="Tahun program (bawaan: tahun ini).")
        parser.add_argument(
            "--all-or-nothing",
            action="store_true",
            help="Jika ada baris ditolak (termasuk duplikat), tidak ada yang disimpan.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Periksa dan hitung saja; tidak ada yang disimpan.")
        parser.add_argument("--errors", type=Path, help="Tulis laporan kesalahan ke berkas .xlsx ini.")
        parser.add_argument(
            "--user", help="Nama pengguna yang dicatat sebagai pengunggah (bawaan: superuser aktif pertama)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"Berkas tidak ditemukan: {path}")
        year = options["year"] or timezone.localdate().year
        user = self._user(options["user"])
        program = Program.objects.filter(code=options["program"], year=year).first()
        if program is None:
            raise CommandError(f"Program {options['program']} tahun {year} tidak ada.")
        try:
            job = intervention_job_create(
                actor=user,
                program=program,
                upload=path,
                all_or_nothing=options["all_or_nothing"],
                dry_run=options["dry_run"],
            )
            if job.duplicate_of_id:
                self.stderr.write(jobs.duplicate_message(job=job).removesuffix(" Lanjutkan?") + " (dilanjutkan)")
            job = jobs.import_job_confirm(job=job, accept_duplicate=True, send=False, preview_required=False)
        except DomainError as exc:
            raise CommandError(exc.message) from exc

        self.stderr.write(f"Unggahan #{job.pk}: program {program.code} ({program.year}), berkas {path.name}")
        finished = jobs.import_job_execute(job_id=job.pk)
        if finished is None:  # cannot happen: the job was queued by this process just above
            raise CommandError(f"Unggahan #{job.pk} diambil proses lain.")
        if options["errors"]:
            rows = report.error_report_write(job=finished, target=str(options["errors"]))
            self.stderr.write(f"Laporan kesalahan: {options['errors']} ({rows} baris)")
        if finished.status != ImportStatus.SUCCEEDED:
            raise CommandError(f"Unggahan #{finished.pk} gagal: {finished.message}")
        if finished.message:
            self.stderr.write(finished.message)
        counts = finished.summary.get("interventions", {})
        self.stdout.write(
            f"Unggahan #{finished.pk} selesai{' (uji coba, tidak ada yang disimpan)' if finished.dry_run else ''}: "
            f"{finished.rows_done} baris dalam {finished.duration_seconds or 0:.1f} dtk"
        )
        result = {key: int(counts.get(key, 0)) for key in ("created", "duplicates", "rejected")}
        self.stdout.write(json.dumps(result))

    def _user(self, username: str | None) -> Any:
        User = get_user_model()
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"Pengguna '{username}' tidak ada.")
            return user
        superuser = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if superuser is None:
            raise CommandError("Tidak ada superuser aktif: sebutkan --user (pengguna yang dicatat sebagai pengunggah).")
        return superuser
