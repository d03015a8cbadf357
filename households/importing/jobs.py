"""The life of an import job, around the engine: upload → preview → confirm → run → result.

* ``import_job_create`` stores the files (sha256 while reading) and notes an earlier successful import of the
  same file (``duplicate_of``); ``import_job_preview`` asks the engine for the preview (nothing is written to
  the registry; a refused file fails the job with the engine's message).
* ``import_job_confirm`` / ``import_job_rerun`` move the job to ``queued`` with a conditional UPDATE and send
  the Celery task when the transaction commits; ``import_job_cancel`` stops a job that has not started.
* ``import_job_execute`` is what the task (and the command line) runs: claim ``queued → running`` (0 rows:
  someone else has it, return), heartbeat from a side thread, ``engine.run`` (one transaction: all or
  nothing), store the summary or the failure.
* ``import_jobs_fail_stuck`` marks ``running`` jobs whose heartbeat stopped (the worker died) as failed.

Reads (``import_job_list``, ``import_job_get``, ``import_regions_for``) start from ``ImportJob.objects.for_user``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, connections, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce, Now
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from households.importing import engine
from households.importing.types import (
    DTKS,
    DTSEN,
    FAMILY,
    PERSON,
    Counts,
    ImportFileError,
    ImportSummary,
    ProgressCallback,
)
from households.models import ImportFile, ImportJob, ImportStatus, LinkageReview, RowError, Source
from tkpk.exceptions import DomainError
from tkpk.models import Region
from tkpk.scoping import Role, scope_for

logger = logging.getLogger(__name__)

# Which files each source needs, in upload order.
SOURCE_FILE_KINDS: dict[str, tuple[str, ...]] = {"p3ke": (FAMILY, PERSON), "dtks": (DTKS,), "dtsen": (DTSEN,)}
ALLOWED_SUFFIXES = (".xlsx", ".csv")
PREVIEW_SAMPLE_SIZE = 20
HASH_CHUNK = 1024 * 1024
TERMINAL_STATUSES = (ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.CANCELLED)

UploadSource = UploadedFile | Path


class ImportRefusedError(DomainError):
    """The engine refused a file at preview (no header, wrong kind, ...); the job is marked failed."""


def stuck_message() -> str:
    return _("Pekerja berhenti di tengah impor; data tidak berubah. Jalankan ulang.")


# ---------------------------------------------------------------------------------------------------- reads


def import_job_list(*, user: Any) -> QuerySet[ImportJob]:
    """The jobs the user may see (their secretariat region), newest first, with what the history shows."""
    files = ImportFile.objects.order_by("kind").only("id", "job_id", "kind", "original_name", "size", "sha256")
    return (
        ImportJob.objects.for_user(user)
        .select_related("source", "region", "created_by", "snapshot")
        .prefetch_related(Prefetch("files", queryset=files))
        .order_by("-created_at", "-id")
    )


def import_job_get(*, user: Any, pk: int) -> ImportJob:
    """One job in the user's scope (404 otherwise)."""
    qs = ImportJob.objects.for_user(user).select_related(
        "source", "region", "created_by", "snapshot", "duplicate_of", "duplicate_of__created_by"
    )
    return get_object_or_404(qs.prefetch_related("files"), pk=pk)


def import_regions_for(*, user: Any) -> list[Region]:
    """The regions the user may import for: those of their secretariat memberships (a job's region)."""
    codes = [grant.region_code for grant in scope_for(user).grants_for(Role.SECRETARIAT)]
    return list(Region.objects.filter(code__in=codes).order_by("code"))


def import_job_row_errors(*, job: ImportJob, limit: int = 50) -> list[RowError]:
    """The first row errors of a job, rejections before warnings."""
    return list(RowError.objects.filter(job=job).order_by("severity", "file", "row_number", "id")[:limit])


# --------------------------------------------------------------------------------------------------- upload


def _suffix(name: str) -> str:
    return Path(name).suffix.lower()


def _sha256(handle: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(HASH_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    return digest.hexdigest(), size


@contextmanager
def _opened(upload: UploadSource) -> Iterator[tuple[IO[bytes], str]]:
    """(binary handle at position 0, original name) of an uploaded file or a path on disk."""
    if isinstance(upload, Path):
        with upload.open("rb") as handle:
            yield handle, upload.name
    else:
        upload.seek(0)
        yield upload, upload.name or "berkas"


def _check_files(source: str, files: Mapping[str, UploadSource]) -> None:
    kinds = SOURCE_FILE_KINDS.get(source)
    if kinds is None:
        raise DomainError(_("Sumber data tidak dikenal: %(source)s.") % {"source": source}, code="source_unknown")
    missing = [kind for kind in kinds if files.get(kind) is None]
    if missing or set(files) - set(kinds):
        if source == "p3ke":
            message = _("Impor P3KE membutuhkan berkas keluarga dan berkas anggota keluarga.")
        else:
            message = _("Impor %(source)s membutuhkan satu berkas.") % {"source": source.upper()}
        raise DomainError(message, code="files_missing")
    for upload in files.values():
        name = upload.name if isinstance(upload, Path) else (upload.name or "")
        if _suffix(name) not in ALLOWED_SUFFIXES:
            raise DomainError(
                _("Berkas %(name)s bukan .xlsx atau .csv. Simpan ulang sebagai .xlsx (Excel) atau .csv.")
                % {"name": Path(name).name},
                code="file_type",
            )


def earlier_import_of(*, job: ImportJob) -> ImportJob | None:
    """The latest successful (not dry-run) import of the same region with a file of the same sha256."""
    hashes = list(job.files.values_list("sha256", flat=True))
    match = (
        ImportFile.objects.filter(
            sha256__in=hashes,
            job__status=ImportStatus.SUCCEEDED,
            job__dry_run=False,
            job__region_id=job.region_id,
        )
        .exclude(job_id=job.pk)
        .select_related("job")
        .order_by("-job__finished_at", "-job_id")
        .first()
    )
    return match.job if match else None


def duplicate_message(*, job: ImportJob) -> str:
    earlier = job.duplicate_of
    if earlier is None:
        return ""
    when = timezone.localtime(earlier.finished_at or earlier.created_at)
    return _("Berkas ini sudah pernah diimpor pada %(when)s (impor #%(id)s, %(source)s %(label)s). Lanjutkan?") % {
        "when": date_format(when, "j F Y H:i"),
        "id": earlier.pk,
        "source": earlier.source_id.upper(),
        "label": earlier.snapshot_label,
    }


@transaction.atomic
def import_job_create(
    *,
    actor: Any,
    source: str,
    files: Mapping[str, UploadSource],
    snapshot_label: str,
    snapshot_date: dt.date,
    region: Region,
    dry_run: bool = False,
) -> ImportJob:
    """A new job in ``uploaded`` with its files stored and hashed; ``duplicate_of`` set when a file was
    already imported successfully for this region. The caller decides the region (the web: the user's
    secretariat region; the command line: ``--region``)."""
    _check_files(source, files)
    label = snapshot_label.strip()
    if not label:
        raise DomainError(_("Label snapshot wajib diisi."), code="snapshot_label")
    source_row = Source.objects.filter(pk=source).first()
    if source_row is None:
        raise DomainError(_("Sumber data %(source)s belum terdaftar.") % {"source": source}, code="source_unknown")
    job = ImportJob.objects.create(
        source=source_row,
        region=region,
        snapshot_label=label,
        snapshot_date=snapshot_date,
        dry_run=dry_run,
        status=ImportStatus.UPLOADED,
        created_by=actor,
    )
    for kind in SOURCE_FILE_KINDS[source]:
        with _opened(files[kind]) as (handle, name):
            sha256, size = _sha256(handle)
            import_file = ImportFile(job=job, kind=kind, original_name=Path(name).name[:255], sha256=sha256, size=size)
            stored_name = get_valid_filename(f"{job.pk}-{kind}{_suffix(name)}")
            import_file.file.save(stored_name, File(handle, name=stored_name), save=False)
            import_file.save()
    duplicate = earlier_import_of(job=job)
    if duplicate is not None:
        job.duplicate_of = duplicate
        job.save(update_fields=["duplicate_of"])
    return job


def _file_mapping(part: Mapping[str, Any]) -> dict[str, Any]:
    return {"columns": part.get("columns", []), "unmatched": part.get("unmatched", [])}


def import_job_preview(*, job: ImportJob, sample_size: int = PREVIEW_SAMPLE_SIZE) -> ImportJob:
    """Ask the engine for the preview and keep it on the job (and each file's header row and mapping).

    A refused file (``ImportFileError``) fails the job with the engine's message and raises
    ``ImportRefusedError``; nothing is written to the registry either way.
    """
    try:
        preview = engine.preview(job=job, sample_size=sample_size)
    except ImportFileError as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, message=exc.message, finished_at=timezone.now()
        )
        job.refresh_from_db()
        raise ImportRefusedError(exc.message, code=exc.code, extra={"job": job.pk}) from exc
    parts = preview_parts(preview)
    with transaction.atomic():
        for import_file in job.files.all():
            part = parts.get(import_file.kind)
            if part is None:
                continue
            import_file.header_row = part.get("header_row")
            import_file.mapping = _file_mapping(part)
            import_file.save(update_fields=["header_row", "mapping"])
        counts = [part.get("counts", {}) for part in parts.values()]
        job.preview = preview
        job.rows_total = sum(int(c.get("rows", 0)) for c in counts)
        job.error_count = sum(int(c.get("rejected", 0)) for c in counts)
        job.warning_count = sum(int(c.get("warning", 0)) for c in counts)
        job.save(update_fields=["preview", "rows_total", "error_count", "warning_count"])
    return job


def preview_parts(preview: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The per-file parts of a stored preview, keyed by file kind, in upload order."""
    files = preview.get("files", preview)
    order = {kind: i for i, kind in enumerate((FAMILY, PERSON, DTKS, DTSEN))}
    parts = {kind: part for kind, part in files.items() if kind in order and isinstance(part, dict)}
    return dict(sorted(parts.items(), key=lambda item: order[item[0]]))


def import_job_upload(
    *,
    actor: Any,
    source: str,
    files: Mapping[str, UploadSource],
    snapshot_label: str,
    snapshot_date: dt.date,
    region: Region,
    dry_run: bool = False,
) -> ImportJob:
    """Create the job and its preview (the web upload). Raises ``ImportRefusedError`` for a refused file."""
    job = import_job_create(
        actor=actor,
        source=source,
        files=files,
        snapshot_label=snapshot_label,
        snapshot_date=snapshot_date,
        region=region,
        dry_run=dry_run,
    )
    return import_job_preview(job=job)


# ---------------------------------------------------------------------------------------------- transitions


def _send(job_id: int, task_id: str) -> None:
    from households.tasks import import_job_run

    import_job_run.apply_async(args=[job_id], task_id=task_id)


def _queue(*, job: ImportJob, from_status: str, send: bool, reset: dict[str, Any] | None = None) -> bool:
    """queued ← from_status with a conditional UPDATE; the task goes out when the transaction commits."""
    task_id = str(uuid.uuid4())
    updated = ImportJob.objects.filter(pk=job.pk, status=from_status).update(
        status=ImportStatus.QUEUED, task_id=task_id, **(reset or {})
    )
    if updated and send:
        transaction.on_commit(lambda: _send(job.pk, task_id))
    return bool(updated)


def import_job_confirm(*, job: ImportJob, accept_duplicate: bool = False, send: bool = True) -> ImportJob:
    """Queue an uploaded job. A file imported before must be accepted explicitly (``accept_duplicate``)."""
    if job.status != ImportStatus.UPLOADED:
        raise DomainError(_("Impor ini tidak lagi menunggu konfirmasi."), code="not_uploaded")
    if job.duplicate_of_id and not accept_duplicate:
        extra = {"duplicate_of": job.duplicate_of_id}
        raise DomainError(duplicate_message(job=job), code="duplicate_file", extra=extra)
    with transaction.atomic():
        if not _queue(job=job, from_status=ImportStatus.UPLOADED, send=send):
            raise DomainError(_("Impor ini tidak lagi menunggu konfirmasi."), code="not_uploaded")
    job.refresh_from_db()
    return job


def import_job_cancel(*, job: ImportJob) -> ImportJob:
    """Cancel a job that has not started (uploaded or queued); a queued task then finds nothing to claim."""
    updated = ImportJob.objects.filter(pk=job.pk, status__in=[ImportStatus.UPLOADED, ImportStatus.QUEUED]).update(
        status=ImportStatus.CANCELLED, finished_at=timezone.now()
    )
    if not updated:
        raise DomainError(_("Hanya impor yang belum berjalan yang dapat dibatalkan."), code="not_cancellable")
    job.refresh_from_db()
    return job


def import_job_rerun(*, job: ImportJob, send: bool = True) -> ImportJob:
    """Queue a failed job again. The engine is idempotent: the rerun gives the registry a complete import
    without duplicates. Row errors and reviews of the failed attempt are removed first."""
    if job.status != ImportStatus.FAILED:
        raise DomainError(_("Hanya impor yang gagal yang dapat dijalankan ulang."), code="not_failed")
    if not job.preview:
        raise DomainError(
            _("Berkas impor ini ditolak saat pratinjau. Perbaiki berkasnya lalu unggah ulang."), code="refused_file"
        )
    reset = {
        "rows_done": 0,
        "message": "",
        "summary": {},
        "started_at": None,
        "finished_at": None,
        "heartbeat_at": None,
    }
    with transaction.atomic():
        RowError.objects.filter(job=job).delete()
        LinkageReview.objects.filter(job=job).delete()
        if not _queue(job=job, from_status=ImportStatus.FAILED, send=send, reset=reset):
            raise DomainError(_("Hanya impor yang gagal yang dapat dijalankan ulang."), code="not_failed")
    job.refresh_from_db()
    return job


def import_jobs_fail_stuck(*, jobs: QuerySet[ImportJob] | None = None, older_than: dt.timedelta | None = None) -> int:
    """Mark running jobs whose heartbeat is older than the threshold (settings.IMPORT_STUCK_AFTER_SECONDS) as
    failed: their worker died, and the engine's transaction died with it, so the registry is unchanged."""
    threshold = older_than or dt.timedelta(seconds=settings.IMPORT_STUCK_AFTER_SECONDS)
    now = timezone.now()
    cutoff = now - threshold
    stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    qs = ImportJob.objects.all() if jobs is None else jobs
    # finished_at: the last sign of life, so the duration shown is how long the worker really ran.
    return qs.filter(stale, status=ImportStatus.RUNNING).update(
        status=ImportStatus.FAILED, message=stuck_message(), finished_at=Coalesce("heartbeat_at", "started_at", Now())
    )


# ---------------------------------------------------------------------------------------------------- running


class _Heartbeat:
    """Progress and heartbeat written from a side thread on its own database connection.

    The engine runs in one transaction on the task's connection: anything written there stays invisible
    until it commits. This thread writes ``rows_done``, ``rows_total`` and ``heartbeat_at`` every
    ``settings.IMPORT_HEARTBEAT_SECONDS`` in autocommit, so the progress bar moves and a live worker is
    never mistaken for a dead one. SQLite (embedded default, tasks in-process) gets no thread.
    """

    def __init__(self, *, job_id: int, claimed_at: dt.datetime, rows_total: int, extra: ProgressCallback | None):
        self.job_id = job_id
        self.claimed_at = claimed_at
        self.forward = extra
        self.interval = float(settings.IMPORT_HEARTBEAT_SECONDS)
        self._done, self._total = 0, rows_total
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def progress(self, rows_done: int, rows_total: int) -> None:
        with self._lock:
            self._done, self._total = rows_done, rows_total
        if self.forward is not None:
            self.forward(rows_done, rows_total)

    def __enter__(self) -> _Heartbeat:
        if connection.vendor != "sqlite" and self.interval > 0:
            self._thread = threading.Thread(target=self._loop, name=f"import-heartbeat-{self.job_id}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        try:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # Never wait behind a lock on the job row: skip this beat and try the next one.
                    cursor.execute("SET lock_timeout = '2s'")
            while not self._stop.wait(self.interval):
                self._beat()
        except Exception:
            logger.exception("import heartbeat of job %s stopped", self.job_id)
        finally:
            connections.close_all()  # this thread's connections only

    def _beat(self) -> None:
        with self._lock:
            done, total = self._done, self._total
        try:
            ImportJob.objects.filter(pk=self.job_id, status=ImportStatus.RUNNING, started_at=self.claimed_at).update(
                rows_done=done, rows_total=max(total, done), heartbeat_at=timezone.now()
            )
        except Exception:
            logger.warning("import heartbeat of job %s skipped", self.job_id, exc_info=True)


def summary_dict(summary: ImportSummary) -> dict[str, Any]:
    """What the job stores: the CLI's JSON (families/persons counts) plus missing, rows read and linkage."""

    def counts(c: Counts) -> dict[str, int]:
        return {**c.as_dict(), "missing": c.missing}

    return {
        "families": counts(summary.families),
        "persons": counts(summary.persons),
        "rows_read": summary.rows_read,
        "dry_run": summary.dry_run,
        "linkage": dict(summary.linkage),
    }


def _finish(*, job_id: int, claimed_at: dt.datetime, **values: Any) -> int:
    """Store the outcome unless the job was claimed again since (a rerun); returns rows updated."""
    values.setdefault("finished_at", timezone.now())
    try:
        return ImportJob.objects.filter(pk=job_id, started_at=claimed_at).update(**values)
    except Exception:
        # The connection may have died with the engine (e.g. the database restarted): one retry on a new one.
        connection.close()
        return ImportJob.objects.filter(pk=job_id, started_at=claimed_at).update(**values)


def import_job_execute(*, job_id: int, progress: ProgressCallback | None = None) -> ImportJob | None:
    """Claim a queued job and run the engine on it; returns the job, or None when there was nothing to claim.

    Failures are data: the job ends ``failed`` with a message in Bahasa Indonesia, and the engine's single
    transaction has left the registry as it was.
    """
    claimed_at = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=claimed_at, heartbeat_at=claimed_at, finished_at=None, rows_done=0
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("source", "region", "created_by").get(pk=job_id)
    heartbeat = _Heartbeat(job_id=job.pk, claimed_at=claimed_at, rows_total=job.rows_total, extra=progress)
    try:
        with heartbeat:
            summary = engine.run(job=job, progress=heartbeat.progress)
    except ImportFileError as exc:
        _finish(job_id=job.pk, claimed_at=claimed_at, status=ImportStatus.FAILED, message=exc.message)
    except SoftTimeLimitExceeded:
        message = _(
            "Impor melewati batas waktu dan dihentikan; data tidak berubah. Jalankan ulang atau bagi berkasnya."
        )
        _finish(job_id=job.pk, claimed_at=claimed_at, status=ImportStatus.FAILED, message=message)
    except Exception as exc:
        logger.exception("import job %s failed", job.pk)
        message = _("Impor gagal karena kesalahan sistem; data tidak berubah. Rincian: %(error)s") % {
            "error": f"{type(exc).__name__}: {exc}"[:500]
        }
        _finish(job_id=job.pk, claimed_at=claimed_at, status=ImportStatus.FAILED, message=message)
    else:
        stored = summary_dict(summary)
        rows = max(job.rows_total, summary.rows_read)
        _finish(
            job_id=job.pk,
            claimed_at=claimed_at,
            status=ImportStatus.SUCCEEDED,
            summary=stored,
            message="",
            rows_total=rows,
            rows_done=rows,
            heartbeat_at=timezone.now(),
            error_count=summary.families.rejected + summary.persons.rejected,
            warning_count=summary.families.warnings + summary.persons.warnings,
        )
    job.refresh_from_db()
    return job
