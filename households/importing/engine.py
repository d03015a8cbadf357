"""Orchestration of one import job: ``preview()`` (parse only) and ``run()`` (stage, check, apply).

``run`` phases (PostgreSQL):

1. stage: every file is parsed and COPYed into TEMP tables of this session, in autocommit, so the progress
   callback's updates are visible to other sessions while it runs. A session advisory lock makes imports
   run one at a time (they all write the same households).
2. check: the set-based rules flag rows and record issues in the TEMP tables (nothing in the registry).
3. apply: ONE ``transaction.atomic()`` with ``SET CONSTRAINTS ALL IMMEDIATE`` and the pghistory context
   (user, job): snapshot, households, persons, links, missing flags, row errors and linkage reviews. A
   failure or a killed worker rolls all of it back; TEMP tables vanish with the session. ``dry_run`` runs
   the very same apply and rolls it back, so its counts are those of a real run; its row errors are
   written afterwards.

Call ``run`` outside any transaction (a Celery task, a management command): inside one, the progress
updates only become visible at its commit. On SQLite the same phases run in memory with the ORM.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.utils.translation import gettext as _

from households.importing import apply, checks, linkage, rerun
from households.importing.stage import (
    ISSUE_TABLE,
    TABLES,
    ParsedFileLike,
    PgStager,
    StagedFile,
    adapter_for,
    memory_stage,
    staged_file,
)
from households.importing.types import (
    DTKS,
    DTSEN,
    FAMILY,
    PERSON,
    CellIssue,
    Counts,
    ImportFileError,
    ImportSummary,
    ParsedRow,
    ProgressCallback,
    RowIssue,
)
from households.models import (
    HouseholdSourceLink,
    ImportFile,
    ImportJob,
    ImportKind,
    PersonSourceLink,
    RowError,
    Snapshot,
)
from tkpk.history import history_context
from tkpk.identifiers import dotted_region_code, mask_identifier
from tkpk.models import Region, RegionLevel

logger = logging.getLogger(__name__)

P3KE, SOURCE_DTKS, SOURCE_DTSEN = "p3ke", "dtks", "dtsen"
# Which file kinds a source's job takes, in processing order (families before their persons).
SOURCE_KINDS: dict[str, tuple[str, ...]] = {P3KE: (FAMILY, PERSON), SOURCE_DTKS: (DTKS,), SOURCE_DTSEN: (DTSEN,)}
MASKED_FIELDS = frozenset({"nik", "head_nik", "no_kk"})
ROW_ERROR_BATCH = 2000
# Session settings for the import's own connection: hash joins over a whole file stay in memory.
PG_SESSION_SETTINGS = {"work_mem": "256MB", "maintenance_work_mem": "256MB"}
IMPORT_LOCK = 7_301_001  # pg_advisory_lock key: one import at a time


# ---------------------------------------------------------------------------------------------------------------
# Files


def parse_file(path: Path, kind: str) -> ParsedFileLike:
    """``mapping.parse_file`` (imported here so tests can swap the parser)."""
    from households.importing import mapping

    parsed: ParsedFileLike = mapping.parse_file(path, kind)  # type: ignore[arg-type]
    return parsed


def _job_files(job: ImportJob) -> list[ImportFile]:
    source = str(job.source_id or "")
    kinds = SOURCE_KINDS.get(source)
    if kinds is None:
        raise ImportFileError(
            _("Sumber %(source)s belum dapat diimpor dengan mesin impor ini.") % {"source": job.source_id},
            code="source_unsupported",
        )
    files = {f.kind: f for f in job.files.all()}
    unexpected = sorted(set(files) - set(kinds))
    if unexpected:
        raise ImportFileError(
            _("Berkas jenis %(kinds)s tidak dipakai untuk sumber %(source)s.")
            % {"kinds": ", ".join(unexpected), "source": source.upper()},
            code="file_kind",
        )
    if not files:
        raise ImportFileError(_("Belum ada berkas untuk diimpor."), code="file_missing")
    return [files[kind] for kind in kinds if kind in files]


def _path(import_file: ImportFile) -> Path:
    return Path(import_file.file.path)


def _record_mapping(import_file: ImportFile, staged: StagedFile) -> None:
    import_file.header_row = staged.header_row
    import_file.mapping = {"columns": staged.columns, "unmatched": staged.unmatched}
    ImportFile.objects.filter(pk=import_file.pk).update(header_row=staged.header_row, mapping=import_file.mapping)


# ---------------------------------------------------------------------------------------------------------------
# Regions: one dict for the job


class RegionIndex:
    """The loaded desa (code -> name, read on first use) and, within the job's region, desa by
    (kecamatan name, desa name) for exports without a region code column."""

    def __init__(self, region: Region) -> None:
        self.region = region
        self.scope = checks.Scope.of(region)

    @functools.cached_property
    def desa_names(self) -> dict[str, str]:
        desa = Region.objects.filter(level=RegionLevel.DESA).values_list("code", "name")
        return dict(desa.iterator(chunk_size=10_000))

    @functools.cached_property
    def by_name(self) -> dict[tuple[str, str], str | None]:
        """None marks a name pair that two desa share (then the name cannot place a row)."""
        code = self.region.code
        kecamatan = dict(
            Region.objects.filter(level=RegionLevel.KECAMATAN, code__startswith=code).values_list("code", "name")
        )
        index: dict[tuple[str, str], str | None] = {}
        for desa, name in Region.objects.filter(level=RegionLevel.DESA, code__startswith=code).values_list(
            "code", "name"
        ):
            if desa[:6] in kecamatan:
                key = (checks.normalize_desa_name(kecamatan[desa[:6]]), checks.normalize_desa_name(name))
                index[key] = None if key in index else desa
        return index

    def resolve(self, values: dict[str, Any]) -> str | None:
        code = values.get("region_code")
        if code:
            return str(code)
        kecamatan, desa = values.get("kecamatan_name"), values.get("desa_name")
        if kecamatan and desa:
            return self.by_name.get((checks.normalize_desa_name(kecamatan), checks.normalize_desa_name(desa)))
        return None

    def issues(self, code: str | None, column: str) -> list[CellIssue]:
        """Region-code issues of one row, as the set-based checks would find them."""
        if not code:
            return []
        dotted = dotted_region_code(code)
        if code not in self.desa_names:
            return [CellIssue(column, code, "region_unknown", checks.msg_region_unknown() % {"code": dotted})]
        if not code.startswith(self.scope.code):
            message = checks.msg_region_outside() % {"code": dotted, "region": self.scope.label}
            return [CellIssue(column, code, "region_outside", message)]
        return []


# ---------------------------------------------------------------------------------------------------------------
# Preview


def _display(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Ya") if value else _("Tidak")
    if isinstance(value, dt.date):
        return value.isoformat()
    if name in MASKED_FIELDS:  # personal data: the preview shows that a NIK is there, not the NIK
        return mask_identifier(str(value))
    return str(value)


def _issue_dict(issue: CellIssue) -> dict[str, str]:
    return {
        "column": issue.column,
        "value": issue.value,
        "code": issue.code,
        "message": issue.message,
        "severity": issue.severity,
    }


# Job kinds other than the registry: the module that stages, checks and applies their rows with this engine's
# reader, mapping, cells, staging, session and row errors (``preview(job=, sample_size=)``, ``run(job=, progress=)``).
KIND_PIPELINES: dict[str, str] = {
    ImportKind.INTERVENTIONS: "programs.importing",
    ImportKind.VERVAL: "reports.verval",
    ImportKind.CSR_ALLOCATION: "csr.allocation_import",
}


def _pipeline(job: ImportJob) -> Any:
    path = KIND_PIPELINES.get(str(job.kind))
    return None if path is None else importlib.import_module(path)


def preview(*, job: ImportJob, sample_size: int = 20) -> dict[str, Any]:
    """Parse every file of the job (no registry access but the region list) and describe it.

    Returns (and stores in ``job.preview``) per file kind: header_row, columns, unmatched, sample rows and
    counts over the whole file. Raises ImportFileError for a file-level fault.
    """
    pipeline = _pipeline(job)
    if pipeline is not None:
        described: dict[str, Any] = pipeline.preview(job=job, sample_size=sample_size)
        return described
    regions = RegionIndex(job.region)
    result: dict[str, Any] = {}
    for import_file in _job_files(job):
        kind = import_file.kind
        parsed = parse_file(_path(import_file), kind)
        staged = staged_file(kind, parsed)
        region_column = staged.header("region_code")
        counts = {"rows": 0, "valid": 0, "warning": 0, "rejected": 0}
        sample: list[dict[str, Any]] = []
        for row in parsed.rows:
            issues = list(row.issues)
            if not row.rejected and "region_code" in row.values:
                issues += regions.issues(row.values.get("region_code"), region_column)
            rejected = any(i.severity == "error" for i in issues)
            counts["rows"] += 1
            if rejected:
                counts["rejected"] += 1
            elif issues:
                counts["warning"] += 1
            else:
                counts["valid"] += 1
            if len(sample) < sample_size:
                sample.append({
                    "row_number": row.row_number,
                    "values": {name: _display(name, value) for name, value in row.values.items()},
                    "issues": [_issue_dict(i) for i in issues],
                })  # fmt: skip
        _record_mapping(import_file, staged)
        result[kind] = {
            "header_row": staged.header_row,
            "columns": staged.columns,
            "unmatched": staged.unmatched,
            "sample": sample,
            "counts": counts,
        }
    job.preview = result
    ImportJob.objects.filter(pk=job.pk).update(preview=result)
    return result


# ---------------------------------------------------------------------------------------------------------------
# Progress


class _Progress:
    """Calls the callback once per staged batch (``stage.BATCH_ROWS`` rows) and at the end of each file."""

    def __init__(self, job: ImportJob, kinds: list[str], callback: ProgressCallback | None) -> None:
        self.callback = callback
        preview_rows = [(job.preview or {}).get(kind, {}).get("counts", {}).get("rows", 0) for kind in kinds]
        self.total = sum(preview_rows) if all(preview_rows) else job.rows_total
        self.done_before = 0
        self.last = 0

    def file_done(self, rows: int) -> None:
        self.done_before += rows

    def __call__(self, rows_in_file: int) -> None:
        done = self.done_before + rows_in_file
        if self.callback is None or done == self.last:
            return
        self.last = done
        self.callback(done, max(self.total, done))


# ---------------------------------------------------------------------------------------------------------------
# Run


@dataclass
class _Run:
    job: ImportJob
    files: list[ImportFile]
    regions: RegionIndex
    progress: _Progress
    summary: ImportSummary
    staged: dict[str, StagedFile] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return str(self.job.source_id)

    @property
    def scope(self) -> checks.Scope:
        return self.regions.scope

    def parse_all(self, stage: Callable[[StagedFile, Iterator[ParsedRow], Any], None]) -> None:
        for import_file in self.files:
            kind = import_file.kind
            if kind in (DTKS, DTSEN):
                self.regions.by_name  # noqa: B018 - loaded now: no query may run while rows stream into COPY
            with _timed(self.job, f"parse + stage {kind}"):
                parsed = parse_file(_path(import_file), kind)
                staged = staged_file(kind, parsed)
                stage(staged, parsed.rows, adapter_for(kind, self.regions.resolve))
            self.progress.file_done(staged.rows_read)
            self.staged[kind] = staged
            self.summary.rows_read += staged.rows_read
            _record_mapping(import_file, staged)

    def counts_for(self, kind: str) -> Counts:
        return self.summary.families if kind == FAMILY else self.summary.persons

    def snapshot(self) -> Snapshot:
        if self.job.snapshot_id:
            return Snapshot.objects.get(pk=self.job.snapshot_id)
        snapshot, _created = Snapshot.objects.get_or_create(
            source_id=self.source,
            label=self.job.snapshot_label,
            defaults={
                "taken_on": self.job.snapshot_date,
                "region": self.job.region,
                "created_by_id": self.job.created_by_id,
            },
        )
        return snapshot

    def finish_job(self, *, snapshot_id: int | None, errors: int, warnings: int) -> None:
        job = self.job
        job.error_count, job.warning_count = errors, warnings
        fields: dict[str, Any] = {"error_count": errors, "warning_count": warnings}
        if snapshot_id is not None:
            job.snapshot_id = snapshot_id
            fields["snapshot_id"] = snapshot_id
        ImportJob.objects.filter(pk=job.pk).update(**fields)


def run(*, job: ImportJob, progress: ProgressCallback | None = None) -> ImportSummary:
    """Import the job's files into the registry as ``job.snapshot``; see the module docstring."""
    pipeline = _pipeline(job)
    if pipeline is not None:
        done: ImportSummary = pipeline.run(job=job, progress=progress)
        return done
    earlier = rerun.identical_earlier_import(job)
    if earlier is not None:  # the very same files on an unchanged registry: the earlier result, nothing read
        summary = rerun.repeat(job=job, earlier=earlier)
        summary.engine, summary.rerun_of = rerun.engine_fingerprint(), earlier.pk
        summary.history_mark = rerun.history_mark(str(job.source_id))
        if progress is not None and summary.rows_read:
            progress(summary.rows_read, summary.rows_read)
        return summary
    files = _job_files(job)
    state = _Run(
        job=job,
        files=files,
        regions=RegionIndex(job.region),
        progress=_Progress(job, [f.kind for f in files], progress),
        summary=ImportSummary(dry_run=job.dry_run, engine=rerun.engine_fingerprint()),
    )
    if connection.vendor == "postgresql":
        _run_postgres(state)
    else:
        _run_orm(state)
    return state.summary


@contextlib.contextmanager
def _timed(job: ImportJob, step: str) -> Iterator[None]:
    """Log how long a step took (the numbers behind the import's performance notes)."""
    started = time.monotonic()
    yield
    logger.info("import job %s: %s %.2fs", job.pk, step, time.monotonic() - started)


def _history(job: ImportJob) -> contextlib.AbstractContextManager[Any]:
    return history_context(user=job.created_by_id, import_job=job.pk)


# -- PostgreSQL ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def pg_session(lock: int = IMPORT_LOCK) -> Iterator[tuple[Any, PgStager]]:
    """The import's TEMP tables, session settings and the import lock (``lock``: registry imports share one,
    other kinds take their own); all undone on the way out."""
    with connection.cursor() as cursor:
        with contextlib.suppress(DatabaseError), transaction.atomic():
            # Local buffers for the TEMP tables; only settable before the session first touched one.
            cursor.execute("SET temp_buffers = '256MB'")
        for name, value in PG_SESSION_SETTINGS.items():
            cursor.execute(f"SET {name} = %s", [value])
        cursor.execute("SELECT pg_advisory_lock(%s)", [lock])
        stager = PgStager(cursor)
        try:
            stager.create()
            yield cursor, stager
        finally:
            try:
                if not connection.needs_rollback and not _in_failed_transaction(cursor):
                    stager.drop()
                    cursor.execute(f"DROP TABLE IF EXISTS {apply.FAMILY_PLAN}, {apply.PERSON_PLAN}, {apply.KEYS}")
                    linkage.pg_drop(cursor)
                    for name in PG_SESSION_SETTINGS:
                        cursor.execute(f"RESET {name}")
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [lock])
            except DatabaseError:
                # The connection died with the run (the lock and TEMP tables died with it): keep the first error.
                logger.warning("import session cleanup failed", exc_info=True)


def _in_failed_transaction(cursor: Any) -> bool:
    import psycopg2.extensions

    status = cursor.connection.get_transaction_status()
    return bool(status == psycopg2.extensions.TRANSACTION_STATUS_INERROR)


def _pg_file_counts(cursor: Any, staged: StagedFile, counts: Counts) -> None:
    cursor.execute(
        f"SELECT count(*) FILTER (WHERE rejected), count(*) FILTER (WHERE warned AND NOT rejected) "  # noqa: S608
        f"FROM {TABLES[staged.kind]}"
    )
    rejected, warned = cursor.fetchone()
    counts.rejected += int(rejected)
    counts.warnings += int(warned)


def pg_write_row_errors(cursor: Any, job: ImportJob) -> None:
    RowError.objects.filter(job=job).delete()
    cursor.execute(
        f"""
        INSERT INTO {RowError._meta.db_table} (job_id, file, row_number, "column", value, code, message, severity)
        SELECT %s, file, row_number, left(col, 120), left(value, 300), left(code, 40), left(message, 500), severity
        FROM {ISSUE_TABLE} ORDER BY file, row_number
        """,  # noqa: S608
        [job.pk],
    )


def _run_postgres(state: _Run) -> None:
    job = state.job
    with pg_session() as (cursor, stager):
        state.parse_all(lambda staged, rows, adapter: stager.stage(staged, rows, adapter, on_batch=state.progress))
        family, person = state.staged.get(FAMILY), state.staged.get(PERSON)
        second = state.staged.get(DTKS) or state.staged.get(DTSEN)
        with _timed(job, "checks"):
            if family is not None:
                checks.pg_family_checks(cursor, family, state.scope)
            if person is not None:
                checks.pg_person_checks(
                    cursor, person, state.scope, source=state.source, has_family_file=family is not None
                )
            if second is not None:
                linkage.pg_second_checks(cursor, second, state.scope)
            for staged in state.staged.values():
                _pg_file_counts(cursor, staged, state.counts_for(staged.kind))

        with transaction.atomic(), _history(job):
            # Deferred FK checks queue one event per written row: with pghistory's row triggers that makes bulk
            # writes quadratic. Our writes go parents first, so immediate checks pass.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            bulk_settings = apply.pg_begin_bulk_writes(cursor)  # the apply writes history set-based
            snapshot = state.snapshot()
            ctx = apply.ApplyContext(
                source=state.source,
                snapshot_id=snapshot.pk,
                scope=state.scope,
                now=apply.now(),
                cursor=cursor,
                history_id=apply.pg_history_context_id(cursor),
            )
            if family is not None:
                with _timed(job, "apply families"):
                    apply.pg_apply_families(ctx, family, state.summary.families)
                    state.summary.families.missing = apply.pg_flag_missing(
                        ctx, model=HouseholdSourceLink, stage_table=TABLES[FAMILY], column="id_keluarga"
                    )
            if person is not None:
                with _timed(job, "apply persons"):
                    apply.pg_apply_persons(ctx, person, state.summary.persons)
                    state.summary.persons.missing = apply.pg_flag_missing(
                        ctx, model=PersonSourceLink, stage_table=TABLES[PERSON], column="id_individu"
                    )
            if second is not None:
                with _timed(job, "linkage"):
                    linkage.pg_link(ctx, second, state.summary, job=job)
            apply.pg_end_bulk_writes(cursor, bulk_settings)
            state.summary.history_mark = rerun.history_mark(str(job.source_id))
            if job.dry_run:
                transaction.set_rollback(True)
            else:
                pg_write_row_errors(cursor, job)
                state.finish_job(snapshot_id=snapshot.pk, **_totals(state.summary))
        if job.dry_run:
            with transaction.atomic():
                pg_write_row_errors(cursor, job)
                state.finish_job(snapshot_id=None, **_totals(state.summary))


def _totals(summary: ImportSummary) -> dict[str, int]:
    return {
        "errors": summary.families.rejected + summary.persons.rejected,
        "warnings": summary.families.warnings + summary.persons.warnings,
    }


# -- SQLite / ORM ----------------------------------------------------------------------------------------------


def write_row_errors(job: ImportJob, issues: list[RowIssue]) -> None:
    RowError.objects.filter(job=job).delete()
    issues = sorted(issues, key=lambda i: (i.file, i.row_number))
    RowError.objects.bulk_create(
        [
            RowError(
                job=job,
                file=i.file,
                row_number=i.row_number,
                column=i.column[:120],
                value=i.value[:300],
                code=i.code[:40],
                message=i.message[:500],
                severity=i.severity,
            )
            for i in issues
        ],
        batch_size=ROW_ERROR_BATCH,
    )


def _run_orm(state: _Run) -> None:
    job = state.job
    state.parse_all(lambda staged, rows, adapter: memory_stage(staged, rows, adapter, on_batch=state.progress))
    family, person = state.staged.get(FAMILY), state.staged.get(PERSON)
    second = state.staged.get(DTKS) or state.staged.get(DTSEN)
    if family is not None:
        checks.mem_family_checks(family, state.scope)
    if person is not None:
        checks.mem_person_checks(person, state.scope, source=state.source, family_file=family)
    if second is not None:
        linkage.mem_second_checks(second, state.scope, state.regions)
    for staged in state.staged.values():
        counts = state.counts_for(staged.kind)
        counts.rejected += sum(row.rejected for row in staged.rows)
        counts.warnings += sum(row.warned and not row.rejected for row in staged.rows)
    issues = [issue for staged in state.staged.values() for issue in staged.issues]

    with transaction.atomic():
        snapshot = state.snapshot()
        ctx = apply.ApplyContext(source=state.source, snapshot_id=snapshot.pk, scope=state.scope, now=apply.now())
        families: dict[str, int] = {}
        if family is not None:
            families = apply.orm_apply_families(ctx, family, state.summary.families)
            present = {row.values["id_keluarga"] for row in family.rows if row.values.get("id_keluarga")}
            state.summary.families.missing = apply.orm_flag_missing(ctx, model=HouseholdSourceLink, present=present)
        if person is not None:
            apply.orm_apply_persons(ctx, person, state.summary.persons, families)
            present = {row.values["id_individu"] for row in person.rows if row.values.get("id_individu")}
            state.summary.persons.missing = apply.orm_flag_missing(ctx, model=PersonSourceLink, present=present)
        if second is not None:
            linkage.orm_link(ctx, second, state.summary, job=job)
        if job.dry_run:
            transaction.set_rollback(True)
        else:
            write_row_errors(job, issues)
            state.finish_job(snapshot_id=snapshot.pk, **_totals(state.summary))
    if job.dry_run:
        with transaction.atomic():
            write_row_errors(job, issues)
            state.finish_job(snapshot_id=None, **_totals(state.summary))
