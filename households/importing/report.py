"""The error report of an import job: one .xlsx row per ``RowError``, streamed (openpyxl write-only).

Headers and labels are Indonesian; the messages are the engine's (already Bahasa Indonesia). Rows are read
from the database in chunks and written as they come, so a report of 300,000 issues never sits in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from households.importing.types import DTKS, DTSEN, FAMILY, INTERVENTION, PERSON
from households.models import ImportJob, RowError
from tkpk.xlsx import xlsx_write

REPORT_HEADERS = (
    gettext_lazy("Berkas"),
    gettext_lazy("Nomor baris"),
    gettext_lazy("Kolom"),
    gettext_lazy("Nilai"),
    gettext_lazy("Pesan"),
    gettext_lazy("Tingkat"),
    gettext_lazy("Kode"),
)
FILE_LABELS = {
    FAMILY: gettext_lazy("Keluarga (P3KE)"),
    PERSON: gettext_lazy("Anggota keluarga (P3KE)"),
    DTKS: gettext_lazy("DTKS"),
    DTSEN: gettext_lazy("DTSEN"),
    INTERVENTION: gettext_lazy("Penyaluran program"),
}
SEVERITY_LABELS = {"error": gettext_lazy("Ditolak"), "warning": gettext_lazy("Peringatan")}
CHUNK_SIZE = 5000


def file_label(kind: str) -> str:
    return str(FILE_LABELS.get(kind, kind))


def cell_text(value: str) -> str:
    """A value read from an uploaded file, safe to write back: no control characters (openpyxl refuses them)
    and never a formula (openpyxl turns a string starting with "=" into one)."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value.startswith("=") else value


def error_report_rows(*, job: ImportJob) -> Iterator[list[Any]]:
    """The report's data rows in file and row order, converted to display values."""
    files = {kind: file_label(kind) for kind in FILE_LABELS}
    severities = {key: str(label) for key, label in SEVERITY_LABELS.items()}
    rows = (
        RowError.objects.filter(job=job)
        .order_by("file", "row_number", "id")
        .values_list("file", "row_number", "column", "value", "message", "severity", "code")
    )
    for kind, row_number, column, value, message, severity, code in rows.iterator(chunk_size=CHUNK_SIZE):
        yield [
            files.get(kind, kind),
            row_number,
            cell_text(column),
            cell_text(value),
            cell_text(message),
            severities.get(severity, severity),
            code,
        ]


def error_report_write(*, job: ImportJob, target: str | IO[bytes]) -> int:
    """Write the job's error report to ``target`` (a path or a binary file); returns the number of rows."""
    return xlsx_write(
        target,
        title=_("Kesalahan impor #%(id)s") % {"id": job.pk},
        headers=[str(header) for header in REPORT_HEADERS],
        rows=error_report_rows(job=job),
    )


def error_report_filename(*, job: ImportJob) -> str:
    return f"kesalahan-impor-{job.pk}.xlsx"
