"""The error report: Indonesian header row, then one row per RowError in file/row order; safe cell values."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from households.importing.report import REPORT_HEADERS, error_report_filename, error_report_write
from households.models import ImportJob, RowError
from tests.factories import source
from tests.households.importing.jobs_support import SNAPSHOT_DATE, kendal, secretariat

pytestmark = pytest.mark.django_db


@pytest.fixture
def job() -> ImportJob:
    return ImportJob.objects.create(
        source=source("p3ke"),
        region=kendal(),
        snapshot_label="P3KE 2024 S1",
        snapshot_date=SNAPSHOT_DATE,
        created_by=secretariat(),
    )


def read(buffer: io.BytesIO) -> list[tuple[object, ...]]:
    buffer.seek(0)
    workbook = load_workbook(buffer, read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    return rows


def error(job: ImportJob, **kw: object) -> RowError:
    values = {"file": "family", "row_number": 2, "column": "Desil", "value": "", "code": "x", "message": "m"}
    return RowError.objects.create(job=job, **{**values, **kw})


def test_header_row_then_one_row_per_row_error(job: ImportJob) -> None:
    error(job, file="person", row_number=7, column="Tanggal Lahir", value="30-02-1985", code="date_invalid",
          message="Tanggal lahir '30-02-1985' tidak sah.")  # fmt: skip
    error(job, file="family", row_number=14, column="Desil Kesejahteraan", value="11", code="desil_range",
          message="Desil 11 di luar 1-10.")  # fmt: skip
    error(job, file="family", row_number=5, column="NIK", value="3.32401550190000E+15", code="nik_excel_number",
          message="NIK tersimpan sebagai angka Excel; perlu verifikasi", severity="warning")  # fmt: skip
    other = ImportJob.objects.create(
        source=job.source, region=job.region, snapshot_label="lain", snapshot_date=SNAPSHOT_DATE,
        created_by=job.created_by,
    )  # fmt: skip
    error(other, row_number=99)

    buffer = io.BytesIO()
    count = error_report_write(job=job, target=buffer)

    rows = read(buffer)
    assert count == 3
    assert rows[0] == ("Berkas", "Nomor baris", "Kolom", "Nilai", "Pesan", "Tingkat", "Kode")
    assert [str(h) for h in REPORT_HEADERS] == list(rows[0])
    assert rows[1:] == [
        ("Keluarga (P3KE)", 5, "NIK", "3.32401550190000E+15", "NIK tersimpan sebagai angka Excel; perlu verifikasi",
         "Peringatan", "nik_excel_number"),
        ("Keluarga (P3KE)", 14, "Desil Kesejahteraan", "11", "Desil 11 di luar 1-10.", "Ditolak", "desil_range"),
        ("Anggota keluarga (P3KE)", 7, "Tanggal Lahir", "30-02-1985", "Tanggal lahir '30-02-1985' tidak sah.",
         "Ditolak", "date_invalid"),
    ]  # fmt: skip


def test_a_job_without_errors_gives_the_header_only(job: ImportJob) -> None:
    buffer = io.BytesIO()
    assert error_report_write(job=job, target=buffer) == 0
    assert len(read(buffer)) == 1
    assert error_report_filename(job=job) == f"kesalahan-impor-{job.pk}.xlsx"


def test_values_from_the_file_never_become_formulas_or_break_the_sheet(job: ImportJob) -> None:
    error(job, column="=Nama", value='=HYPERLINK("http://contoh.invalid","klik")', message="nilai\x07 aneh\x01")

    buffer = io.BytesIO()
    error_report_write(job=job, target=buffer)

    row = read(buffer)[1]
    assert row[2] == "'=Nama"
    assert row[3] == '\'=HYPERLINK("http://contoh.invalid","klik")'
    assert row[4] == "nilai aneh"
