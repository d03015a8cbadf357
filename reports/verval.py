"""The filled gap-list sheet (verval) back through the import engine: jobs of kind ``verval``.

The secretariat uploads the sheet the desa filled (``verval_upload``); the engine's job life (preview task,
confirmation, Celery run, progress, row errors, error report) runs this module's ``preview`` and ``run``
(``households.importing.engine.KIND_PIPELINES``).

Each row names a household by its id in this system and a verval status:

* ``PINDAH`` → the household's status becomes moved; ``MENINGGAL`` → deceased;
* ``TIDAK MISKIN LAGI`` → graduated, with a ``Graduation`` row (date: Tanggal verval, else the upload date;
  reason: Keterangan, else "Verval lapangan"; ``import_job`` set);
* ``DITEMUKAN`` → no change (counted); ``TIDAK DITEMUKAN`` → no status change, counted, and the household is
  flagged for verification (``verification_priority``) when it was not already;
* a blank status → the row was not verified: skipped.

The rows are staged in a TEMP table, checked in SQL (the id exists within the uploader's households, once per
file, the household's current status allows the change) and applied with set-based ``UPDATE … FROM`` and
``INSERT … SELECT`` in one transaction, inside ``history_context`` (pghistory keeps each household's change).
Any refused row leaves the whole file unwritten; every refusal is a ``RowError`` with row, column and reason.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from households.choices import HouseholdStatus, VerificationPriority
from households.importing import engine, jobs, reader
from households.importing.types import VERVAL, ImportFileError, ImportSummary, ProgressCallback, RowIssue
from households.models import Graduation, Household, ImportFile, ImportJob, ImportKind, ImportStatus
from reports.gaplist import (
    COL_DATE,
    COL_ID,
    COL_NOTE,
    COL_STATUS,
    DECEASED,
    FOUND,
    MOVED,
    NOT_FOUND,
    NOT_POOR,
    VERVAL_STATUSES,
)
from tkpk.exceptions import DomainError
from tkpk.history import history_context
from tkpk.models import Region
from tkpk.scoping import Cap, scope_for

VERVAL_LOCK = 7_301_003  # pg_advisory_xact_lock key: verval uploads apply one at a time
HEADER_SEARCH_ROWS = 40
INSERT_BATCH = 2000
ENGINE = "verval-1"
PREVIEW_ISSUES = 200
NEW_STATUS = {MOVED: HouseholdStatus.MOVED, DECEASED: HouseholdStatus.DECEASED, NOT_POOR: HouseholdStatus.GRADUATED}
OUTCOME_KEYS = {FOUND: "found", MOVED: "moved", DECEASED: "deceased", NOT_POOR: "graduated", NOT_FOUND: "not_found"}
ALIASES = {
    "household_id": {"idkeluargasistem", "idkeluarga", "idsistem"},
    "status": {"statusverval", "hasilverval"},
    "verval_date": {"tanggalverval", "tglverval"},
    "note": {"keterangan", "catatan", "keteranganverval"},
}
REQUIRED = ("household_id", "status")


def msg_no_columns() -> str:
    return _(
        "Kolom “%(id)s” dan “%(status)s” tidak ditemukan di %(rows)s baris pertama. Gunakan berkas yang diunduh "
        "dari halaman Daftar kesenjangan (tombol Unduh .xlsx) tanpa mengubah baris judul kolomnya."
    ) % {"id": COL_ID, "status": COL_STATUS, "rows": HEADER_SEARCH_ROWS}


def msg_default_reason() -> str:
    return _("Verval lapangan")


# ------------------------------------------------------------------------------------------------------ upload


def _check_may_upload(actor: Any) -> None:
    if not scope_for(actor).can(Cap.GAP_MANAGE):
        raise DomainError(_("Peran Anda tidak dapat mengunggah hasil verval."), code="forbidden")


@transaction.atomic
def verval_job_create(*, actor: Any, upload: jobs.UploadSource, region: Region, dry_run: bool = False) -> ImportJob:
    """A new verval job in ``uploaded`` with its file stored and hashed, for the actor's secretariat region."""
    _check_may_upload(actor)
    if region not in jobs.import_regions_for(user=actor) and not scope_for(actor).is_superuser:
        raise DomainError(_("Wilayah ini bukan wilayah sekretariat Anda."), code="forbidden")
    jobs.check_suffix(upload)
    today = timezone.localdate()
    job = ImportJob.objects.create(
        kind=ImportKind.VERVAL,
        region=region,
        snapshot_label=_("Verval %(date)s") % {"date": today.isoformat()},
        snapshot_date=today,
        dry_run=dry_run,
        status=ImportStatus.UPLOADED,
        created_by=actor,
    )
    jobs.import_file_store(job=job, kind=VERVAL, upload=upload)
    duplicate = jobs.earlier_import_of(job=job)
    if duplicate is not None:
        job.duplicate_of = duplicate
        job.save(update_fields=["duplicate_of"])
    return job


@transaction.atomic
def verval_upload(
    *, actor: Any, upload: jobs.UploadSource, region: Region, dry_run: bool = False, send: bool = True
) -> ImportJob:
    """The web upload: create the job and queue its preview task at commit (the request never parses the file)."""
    job = verval_job_create(actor=actor, upload=upload, region=region, dry_run=dry_run)
    jobs.import_job_queue_preview(job=job, send=send)
    job.refresh_from_db()
    return job


def verval_jobs(*, user: Any) -> Any:
    return jobs.import_job_list(user=user, kind=ImportKind.VERVAL)


def verval_job_get(*, user: Any, pk: int) -> ImportJob:
    return jobs.import_job_get(user=user, pk=pk, kind=ImportKind.VERVAL)


# ------------------------------------------------------------------------------------------------------ parsing


def _norm(text: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text or "").lower())


@dataclass
class _Header:
    row_number: int
    positions: dict[str, int]
    headers: dict[str, str]  # field -> header as written
    columns: list[dict[str, str | None]]
    unmatched: list[str]


@dataclass
class _Parsed:
    header: _Header
    issues: list[RowIssue] = field(default_factory=list)
    rows_read: int = 0
    skipped: int = 0
    rejected_rows: set[int] = field(default_factory=set)


def _aliases() -> dict[str, set[str]]:
    """The Indonesian aliases plus the sheet's own column titles in every interface language (a sheet
    downloaded in English comes back with English titles)."""
    aliases = {name: set(values) for name, values in ALIASES.items()}
    titles = {"household_id": COL_ID, "status": COL_STATUS, "verval_date": COL_DATE, "note": COL_NOTE}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for name, title in titles.items():
                aliases[name].add(_norm(str(title)))
    return aliases


def _find_header(rows: Iterator[tuple[int, list[Any]]]) -> _Header:
    all_aliases = _aliases()
    for number, cells in rows:
        positions: dict[str, int] = {}
        for index, cell in enumerate(cells):
            key = _norm(cell)
            for name, aliases in all_aliases.items():
                if key in aliases and name not in positions:
                    positions[name] = index
        if all(name in positions for name in REQUIRED):
            headers = {name: str(cells[index]).strip() for name, index in positions.items()}
            by_index = {index: name for name, index in positions.items()}
            columns = [
                {"header": str(cell).strip(), "field": by_index.get(index)}
                for index, cell in enumerate(cells)
                if str(cell).strip()
            ]
            unmatched = [str(c["header"]) for c in columns if c["field"] is None]
            return _Header(number, positions, headers, columns, unmatched)
        if number >= HEADER_SEARCH_ROWS:
            break
    raise ImportFileError(msg_no_columns(), code="file_missing_columns")


def _parse_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value > 0 else None
    text = str(value).strip().removesuffix(".0")
    return int(text) if text.isdigit() and int(text) > 0 else None


def _parse_status(value: Any) -> str | None:
    text = re.sub(r"[\s_\-]+", " ", str(value or "")).strip().upper()
    return text if text in VERVAL_STATUSES else None


DATE_FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d-%m-%y", "%d/%m/%y")
EXCEL_EPOCH = dt.date(1899, 12, 30)


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 30000 <= value <= 80000:
        return EXCEL_EPOCH + dt.timedelta(days=int(value))
    text = str(value).strip().split(" ")[0]
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    return None


def _cell(cells: list[Any], position: int | None) -> Any:
    if position is None or position >= len(cells):
        return ""
    value = cells[position]
    return "" if value is None else value


def _shown(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)[:300]


def _issue(number: int, column: str, value: Any, code: str, message: str) -> RowIssue:
    return RowIssue(file=VERVAL, row_number=number, column=column, value=_shown(value), code=code, message=message)


def _rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    for number, cells in enumerate(reader.open_rows(path), start=1):
        yield number, list(cells)


def _parse(
    import_file: ImportFile, *, default_date: dt.date, today: dt.date
) -> tuple[_Parsed, Iterator[tuple[int, int, str, dt.date, str]]]:
    """The header (raises ImportFileError) and a lazy iterator of the rows that parse:
    (row number, household id, verval status, date, note). Parse issues go to ``parsed.issues``."""
    rows = _rows(Path(import_file.file.path))
    header = _find_header(rows)
    parsed = _Parsed(header=header)
    pos = header.positions
    col = {name: header.headers.get(name, "") for name in ALIASES}
    col["verval_date"] = col["verval_date"] or str(COL_DATE)
    col["note"] = col["note"] or str(COL_NOTE)

    def good_rows() -> Iterator[tuple[int, int, str, dt.date, str]]:
        for number, cells in rows:
            if not any(str(c).strip() for c in cells if c is not None):
                continue
            raw_id, raw_status = _cell(cells, pos["household_id"]), _cell(cells, pos["status"])
            if not str(raw_status).strip():
                parsed.skipped += 1
                parsed.rows_read += 1
                continue
            parsed.rows_read += 1
            issues: list[RowIssue] = []
            household_id = _parse_id(raw_id)
            if household_id is None:
                message = _("ID keluarga wajib diisi berupa angka (dari berkas unduhan); tertulis “%(v)s”.")
                issues.append(_issue(number, col["household_id"], raw_id, "household_id", message % {"v": raw_id}))
            status = _parse_status(raw_status)
            if status is None:
                message = _("Status verval “%(v)s” tidak dikenal; pilih salah satu: %(list)s.")
                issues.append(
                    _issue(
                        number,
                        col["status"],
                        raw_status,
                        "status_unknown",
                        message % {"v": raw_status, "list": ", ".join(VERVAL_STATUSES)},
                    )
                )
            raw_date = _cell(cells, pos.get("verval_date"))
            verval_date: dt.date | None = default_date
            if str(raw_date).strip():
                verval_date = _parse_date(raw_date)
                if verval_date is None:
                    message = _("Tanggal verval “%(v)s” tidak terbaca; tulis seperti 15-03-2026.")
                    issues.append(
                        _issue(number, col["verval_date"], raw_date, "date_invalid", message % {"v": raw_date})
                    )
                elif verval_date > today:
                    message = _("Tanggal verval %(v)s ada di masa depan.")
                    issues.append(
                        _issue(number, col["verval_date"], raw_date, "date_future", message % {"v": verval_date})
                    )
                elif verval_date.year < 2000:
                    message = _("Tanggal verval %(v)s terlalu lama (sebelum tahun 2000).")
                    issues.append(
                        _issue(number, col["verval_date"], raw_date, "date_range", message % {"v": verval_date})
                    )
            note = re.sub(r"\s+", " ", str(_cell(cells, pos.get("note")))).strip()
            if len(note) > 300:
                message = _("Keterangan terlalu panjang (%(n)s karakter; paling banyak 300).")
                issues.append(_issue(number, col["note"], note, "note_length", message % {"n": len(note)}))
            if issues:
                parsed.issues += issues
                parsed.rejected_rows.add(number)
                continue
            assert household_id is not None and status is not None and verval_date is not None
            yield number, household_id, status, verval_date, note

    return parsed, good_rows()


# ------------------------------------------------------------------------------------------------ staging + checks


def _table(job: ImportJob) -> str:
    return f"imp_verval_{int(job.pk)}"


def _visible_households(actor: Any) -> tuple[str, tuple[Any, ...]]:
    sql, params = Household.objects.for_user(actor).order_by().values("id").query.sql_with_params()
    return sql, tuple(params)


@dataclass
class _Checked:
    parsed: _Parsed
    counts: dict[str, int]
    rejected: int


def _stage_and_check(cursor: Any, job: ImportJob, actor: Any, progress: ProgressCallback | None) -> _Checked:
    """Parse the file into the job's TEMP table and run every check; returns the counts and the issues."""
    table = _table(job)
    import_file = _job_file(job)
    today = timezone.localdate()
    parsed, rows = _parse(import_file, default_date=job.snapshot_date or today, today=today)
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(
        f"CREATE TEMP TABLE {table} (row_number integer PRIMARY KEY, household_id bigint NOT NULL, "
        "verval varchar(20) NOT NULL, verval_date date NOT NULL, note varchar(300) NOT NULL, "
        "new_status varchar(12), current_status varchar(12), rejected boolean NOT NULL DEFAULT FALSE)"
    )
    insert = f"INSERT INTO {table} (row_number, household_id, verval, verval_date, note, new_status) VALUES (%s, %s, %s, %s, %s, %s)"  # noqa: S608,E501
    batch: list[tuple[Any, ...]] = []
    total = int((job.preview or {}).get(VERVAL, {}).get("counts", {}).get("rows", 0)) or job.rows_total
    for number, household_id, status, verval_date, note in rows:
        batch.append((number, household_id, status, verval_date, note, NEW_STATUS.get(status)))
        if len(batch) >= INSERT_BATCH:
            cursor.executemany(insert, batch)
            batch = []
            if progress is not None:
                progress(parsed.rows_read, max(total, parsed.rows_read))
    if batch:
        cursor.executemany(insert, batch)
    household = Household._meta.db_table
    cursor.execute(
        f"UPDATE {table} SET current_status = (SELECT h.status FROM {household} h WHERE h.id = {table}.household_id)"  # noqa: S608
    )
    visible, params = _visible_households(actor)
    id_col = parsed.header.headers["household_id"]
    status_col = parsed.header.headers["status"]
    # 1. The household must exist and be one the uploader may see.
    cursor.execute(
        f"SELECT row_number, household_id FROM {table} WHERE current_status IS NULL "  # noqa: S608
        f"OR household_id NOT IN ({visible}) ORDER BY row_number",
        params,
    )
    for number, household_id in cursor.fetchall():
        message = _("ID keluarga %(id)s tidak ditemukan di wilayah Anda.") % {"id": household_id}
        parsed.issues.append(_issue(number, id_col, household_id, "household_unknown", message))
    cursor.execute(
        f"UPDATE {table} SET rejected = TRUE WHERE current_status IS NULL OR household_id NOT IN ({visible})",  # noqa: S608
        params,
    )
    # 2. Once per file.
    cursor.execute(
        f"SELECT s.row_number, s.household_id, MIN(f.row_number) FROM {table} s JOIN {table} f "  # noqa: S608
        "ON f.household_id = s.household_id AND f.row_number < s.row_number "
        "WHERE NOT s.rejected GROUP BY s.row_number, s.household_id ORDER BY s.row_number"
    )
    duplicates = cursor.fetchall()
    for number, household_id, first in duplicates:
        message = _("Keluarga %(id)s sudah ada di baris %(row)s berkas ini; satu keluarga cukup satu baris.") % {
            "id": household_id,
            "row": first,
        }
        parsed.issues.append(_issue(number, id_col, household_id, "duplicate_in_file", message))
    if duplicates:
        cursor.execute(
            f"UPDATE {table} SET rejected = TRUE WHERE row_number IN "  # noqa: S608
            f"(SELECT s.row_number FROM {table} s JOIN {table} f ON f.household_id = s.household_id "
            "AND f.row_number < s.row_number)"
        )
    # 3. A status change needs an active household (or one already in that status: unchanged).
    labels = dict(HouseholdStatus.choices)
    cursor.execute(
        f"SELECT row_number, household_id, verval, current_status FROM {table} WHERE NOT rejected "  # noqa: S608
        "AND new_status IS NOT NULL AND current_status NOT IN (%s, new_status) ORDER BY row_number",
        [HouseholdStatus.ACTIVE],
    )
    conflicts = cursor.fetchall()
    for number, household_id, verval, current in conflicts:
        message = _(
            "Keluarga %(id)s berstatus “%(status)s”; status verval %(verval)s tidak dapat diterapkan. Periksa "
            "keluarganya di halaman keluarga."
        ) % {"id": household_id, "status": labels.get(current, current), "verval": verval}
        parsed.issues.append(_issue(number, status_col, verval, "status_conflict", message))
    if conflicts:
        cursor.execute(
            f"UPDATE {table} SET rejected = TRUE WHERE new_status IS NOT NULL AND current_status NOT IN (%s, new_status)",  # noqa: S608,E501
            [HouseholdStatus.ACTIVE],
        )
    counts = {key: 0 for key in OUTCOME_KEYS.values()}
    cursor.execute(f"SELECT verval, COUNT(*) FROM {table} WHERE NOT rejected GROUP BY verval")  # noqa: S608
    for verval, n in cursor.fetchall():
        counts[OUTCOME_KEYS[verval]] = int(n)
    cursor.execute(
        f"SELECT COUNT(*) FROM {table} WHERE NOT rejected AND new_status IS NOT NULL AND current_status = new_status"  # noqa: S608
    )
    counts["unchanged"] = int(cursor.fetchone()[0])
    counts["skipped"] = parsed.skipped
    rejected = len({issue.row_number for issue in parsed.issues})
    if progress is not None:
        progress(parsed.rows_read, max(total, parsed.rows_read))
    return _Checked(parsed=parsed, counts=counts, rejected=rejected)


def _apply(cursor: Any, job: ImportJob, actor: Any) -> int:
    """Write the checked rows (none refused): statuses, graduations, verification flags. Returns households
    changed."""
    table = _table(job)
    household = Household._meta.db_table
    graduation = Graduation._meta.db_table
    now = timezone.now()
    default_reason = msg_default_reason()
    changing = f"FROM {table} s WHERE s.household_id = {household}.id AND s.new_status IS NOT NULL AND s.new_status <> {household}.status"  # noqa: E501
    cursor.execute(
        f"INSERT INTO {graduation} (household_id, graduated_on, reason, evidence, evidence_note, verified_by_id, "  # noqa: S608
        "import_job_id, revoked_on, created_at) "
        "SELECT s.household_id, s.verval_date, CASE WHEN s.note = '' THEN %s ELSE s.note END, '', '', %s, %s, "
        "NULL, %s "
        f"FROM {table} s WHERE s.new_status = %s AND s.current_status = %s ORDER BY s.row_number",
        [default_reason, actor.pk, job.pk, now, HouseholdStatus.GRADUATED, HouseholdStatus.ACTIVE],
    )
    cursor.execute(
        f"UPDATE {household} SET status = s.new_status, status_changed_on = s.verval_date, "  # noqa: S608
        f"status_reason = CASE WHEN s.note = '' THEN %s ELSE s.note END, status_verified_by_id = %s, "
        f"merged_into_id = NULL, updated_at = %s {changing}",
        [default_reason, actor.pk, now],
    )
    changed = max(int(cursor.rowcount), 0)
    cursor.execute(
        f"UPDATE {household} SET verification_priority = %s, updated_at = %s FROM {table} s "  # noqa: S608
        f"WHERE s.household_id = {household}.id AND s.verval = %s "
        f"AND {household}.verification_priority IN ('', %s)",
        [VerificationPriority.OTHER, now, NOT_FOUND, VerificationPriority.NONE],
    )
    return changed + max(int(cursor.rowcount), 0)


# ------------------------------------------------------------------------------------------------ preview + run


def _job_file(job: ImportJob) -> ImportFile:
    files = list(job.files.all())
    if len(files) != 1 or files[0].kind != VERVAL:
        raise ImportFileError(_("Unggahan verval membutuhkan tepat satu berkas."), code="file_missing")
    return files[0]


def _actor(job: ImportJob) -> Any:
    actor = job.created_by
    if not scope_for(actor).can(Cap.GAP_MANAGE):
        raise ImportFileError(_("Pengunggah tidak lagi dapat mengunggah hasil verval."), code="forbidden")
    return actor


def _lock(cursor: Any) -> None:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [VERVAL_LOCK])


def _sample(job: ImportJob, parsed: _Parsed, size: int) -> list[dict[str, Any]]:
    """The first rows of the file as written, with their issues."""
    rows = _rows(Path(_job_file(job).file.path))
    header = parsed.header
    by_row: dict[int, list[dict[str, str]]] = {}
    for issue in parsed.issues:
        by_row.setdefault(issue.row_number, []).append(
            {"column": issue.column, "value": issue.value, "code": issue.code, "message": issue.message}
        )
    sample: list[dict[str, Any]] = []
    for number, cells in rows:
        if number <= header.row_number or not any(str(c).strip() for c in cells if c is not None):
            continue
        values = {name: _shown(_cell(cells, header.positions.get(name))) for name in ALIASES}
        sample.append({"row_number": number, "values": values, "issues": by_row.get(number, [])})
        if len(sample) >= size:
            break
    return sample


def preview(*, job: ImportJob, sample_size: int = 20) -> dict[str, Any]:
    """Parse and check the whole file (nothing written): counts per outcome, refused rows, the first rows."""
    actor = _actor(job)
    with transaction.atomic(), connection.cursor() as cursor:
        checked = _stage_and_check(cursor, job, actor, None)
        cursor.execute(f"DROP TABLE IF EXISTS {_table(job)}")
    parsed = checked.parsed
    rows = parsed.rows_read
    result = {
        VERVAL: {
            "header_row": parsed.header.row_number,
            "columns": parsed.header.columns,
            "unmatched": parsed.header.unmatched,
            "sample": _sample(job, parsed, sample_size),
            "issues": [
                {"row_number": i.row_number, "column": i.column, "value": i.value, "message": i.message}
                for i in sorted(parsed.issues, key=lambda i: i.row_number)[:PREVIEW_ISSUES]
            ],
            "counts": {
                "rows": rows,
                "valid": rows - checked.rejected - parsed.skipped,
                "warning": 0,
                "rejected": checked.rejected,
                **checked.counts,
            },
        }
    }
    job.preview = result
    ImportJob.objects.filter(pk=job.pk).update(preview=result)
    return result


def msg_blocked() -> str:
    return _(
        "Tidak ada perubahan yang disimpan: %(n)s baris ditolak. Perbaiki baris tersebut (lihat daftar kesalahan) "
        "lalu unggah ulang seluruh berkas."
    )


def run(*, job: ImportJob, progress: ProgressCallback | None = None) -> ImportSummary:
    """Check and apply the job's rows in one transaction; any refused row leaves everything unwritten."""
    actor = _actor(job)
    summary = ImportSummary(dry_run=job.dry_run, kind=ImportKind.VERVAL, engine=ENGINE)
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        checked = _stage_and_check(cursor, job, actor, progress)
        summary.rows_read = checked.parsed.rows_read
        summary.verval = dict(checked.counts)
        summary.verval_rejected = checked.rejected
        summary.blocked = checked.rejected > 0
        summary.verval["changed"] = 0
        if not summary.blocked and not job.dry_run:
            with history_context(user=job.created_by_id, import_job=job.pk, action="verval_upload"):
                summary.verval["changed"] = _apply(cursor, job, actor)
        cursor.execute(f"DROP TABLE IF EXISTS {_table(job)}")
        engine.write_row_errors(job, checked.parsed.issues)
        summary.message = msg_blocked() % {"n": checked.rejected} if summary.blocked else ""
        ImportJob.objects.filter(pk=job.pk).update(
            error_count=checked.rejected, warning_count=0, message=summary.message
        )
    return summary
