"""The life of an import job, around the engine: upload → preview → confirm → run → result.

* ``import_job_upload`` (the web) stores the files (``import_job_create``: sha256 while reading, ``duplicate_of``
  when the same file was imported before) and queues the preview task when the transaction commits. The job
  stays ``uploaded`` with an empty ``preview`` until a worker has parsed the whole file
  (``import_job_preview_execute`` → ``import_job_preview``): "preview pending". A refused file fails the job with
  the engine's message and ``preview = {"refused": {code, message}}``; nothing is written to the registry.
* ``import_job_confirm`` / ``import_job_rerun`` move the job to ``queued`` with a conditional UPDATE and send
  the Celery task when the transaction commits; ``import_job_cancel`` stops a job that has not started. A failed
  preview (never run, worker died) is rerun as a preview.
* ``import_job_execute`` is what the task (and the command line) runs: claim ``queued → running`` (0 rows:
  someone else has it, return), heartbeat from a side thread, ``engine.run`` (one transaction: all or
  nothing), store the summary or the failure.
* ``import_jobs_fail_stuck`` (beat, and the pages) fails what no worker will finish: running imports and
  claimed previews whose heartbeat stopped, and queued imports or previews no worker claimed although none
  was busy (a lost broker message).
* ``import_files_purge`` (beat) deletes the stored files of jobs finished (or abandoned unconfirmed) more than
  ``IMPORT_FILE_RETENTION_DAYS`` ago, keeping the ``ImportFile`` rows (sha256) with an empty ``file``.

Timestamps while a job waits for or is held by a worker (no extra columns):

* waiting (``queued``, or a pending preview not claimed yet: ``started_at`` empty): ``heartbeat_at`` is when it
  was queued;
* claimed (``running``, or a pending preview being parsed): ``started_at`` is the claim, ``heartbeat_at`` the
  worker's last sign of life, written every ``IMPORT_HEARTBEAT_SECONDS``. A finished preview clears
  ``started_at`` again, so a job's duration is that of its import run.

Reads (``import_job_list``, ``import_job_get``, ``import_regions_for``) start from ``ImportJob.objects.for_user``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, connections, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce, Now
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from households.importing import engine
from households.importing.types import (
    CSR_ALLOCATION,
    DTKS,
    DTSEN,
    FAMILY,
    INTERVENTION,
    PERSON,
    VERVAL,
    Counts,
    ImportFileError,
    ImportSummary,
    ProgressCallback,
)
from households.models import ImportFile, ImportJob, ImportKind, ImportStatus, LinkageReview, RowError, Source
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
# Uploaded, and the preview task has not stored its result yet (queued, or a worker is parsing the files).
PREVIEW_PENDING = Q(status=ImportStatus.UPLOADED, preview={})
# Waiting for a worker to claim it: a queued import, or a pending preview no worker has claimed yet.
WAITING = Q(status=ImportStatus.QUEUED) | (PREVIEW_PENDING & Q(started_at__isnull=True))

UploadSource = UploadedFile | Path


class ImportRefusedError(DomainError):
    """The engine refused a file at preview (no header, wrong kind, ...); the job is marked failed."""


def stuck_message() -> str:
    return _("Pekerja berhenti di tengah impor; data tidak berubah. Jalankan ulang.")


def preview_stuck_message() -> str:
    return _("Pekerja berhenti saat menyiapkan pratinjau; tidak ada data yang ditulis. Jalankan ulang.")


def _wait_text(seconds: int) -> str:
    if seconds >= 60:
        return _("%(minutes)s menit") % {"minutes": seconds // 60}
    return _("%(seconds)s detik") % {"seconds": seconds}


def queued_lost_message(*, seconds: int) -> str:
    return _(
        "Tidak ada pekerja latar yang mengambil impor ini selama %(wait)s, padahal tidak ada impor lain yang "
        "sedang dikerjakan: pesan antreannya kemungkinan hilang (mis. Redis dikosongkan atau dimulai "
        "ulang). Data tidak berubah. Jalankan ulang."
    ) % {"wait": _wait_text(seconds)}


def preview_lost_message(*, seconds: int) -> str:
    return _(
        "Tidak ada pekerja latar yang mengambil pratinjau ini selama %(wait)s, padahal tidak ada impor lain yang "
        "sedang dikerjakan: pesan antreannya kemungkinan hilang (mis. Redis dikosongkan atau dimulai "
        "ulang). Tidak ada data yang ditulis. Jalankan ulang."
    ) % {"wait": _wait_text(seconds)}


def retention_days() -> int:
    return int(settings.IMPORT_FILE_RETENTION_DAYS)


def files_purged_message() -> str:
    return _(
        "Berkas impor ini sudah dihapus setelah %(days)s hari (masa simpan berkas). Ringkasan, checksum SHA-256 "
        "dan laporan kesalahannya tetap tersimpan."
    ) % {"days": retention_days()}


def abandoned_message(*, days: int) -> str:
    return _(
        "Dibatalkan otomatis: impor ini tidak dikonfirmasi dalam %(days)s hari, sehingga berkasnya dihapus. "
        "Unggah ulang berkasnya untuk mengimpor."
    ) % {"days": days}


# ----------------------------------------------------------------------------------------------- job state


def preview_pending(job: ImportJob) -> bool:
    """The preview task has not finished: queued, or a worker is parsing the files."""
    return job.status == ImportStatus.UPLOADED and not job.preview


def import_job_awaits_worker(job: ImportJob) -> bool:
    """Queued, running or preview pending: a worker still has to take or finish it."""
    return job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING) or preview_pending(job)


def preview_refusal(job: ImportJob) -> dict[str, str] | None:
    """``{code, message}`` when the preview refused a file (no header, wrong kind, ...), else None."""
    refused = (job.preview or {}).get("refused")
    return refused if isinstance(refused, dict) else None


def files_purged(job: ImportJob) -> bool:
    """The stored files were deleted by the retention (``import_files_purge``); the rows and sha256 stay."""
    return any(not import_file.file for import_file in job.files.all())


def import_job_status_label(job: ImportJob) -> str:
    """The status as the pages show it: a pending preview is not yet waiting for a confirmation."""
    if preview_pending(job):
        return _("Menyiapkan pratinjau")
    return str(job.get_status_display())


# ---------------------------------------------------------------------------------------------------- reads


def import_job_list(*, user: Any, kind: str = ImportKind.REGISTRY) -> QuerySet[ImportJob]:
    """The jobs of ``kind`` the user may see (their secretariat region; agencies and partners: their own
    programs' uploads), newest first, with what the history shows."""
    files = ImportFile.objects.order_by("kind").only("id", "job_id", "kind", "original_name", "size", "sha256")
    return (
        ImportJob.objects.for_user(user)
        .filter(kind=kind)
        .select_related("source", "region", "created_by", "snapshot", "program")
        .prefetch_related(Prefetch("files", queryset=files))
        .order_by("-created_at", "-id")
    )


def import_job_get(*, user: Any, pk: int, kind: str = ImportKind.REGISTRY) -> ImportJob:
    """One job of ``kind`` in the user's scope (404 otherwise)."""
    qs = (
        ImportJob.objects.for_user(user)
        .filter(kind=kind)
        .select_related("source", "region", "created_by", "snapshot", "duplicate_of", "duplicate_of__created_by")
        .select_related("program", "program__organization", "duplicate_of__program")
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
    """The latest successful (not dry-run) import of the same region (and kind and program) with a file of the
    same sha256."""
    hashes = list(job.files.values_list("sha256", flat=True))
    match = (
        ImportFile.objects.filter(
            sha256__in=hashes,
            job__status=ImportStatus.SUCCEEDED,
            job__dry_run=False,
            job__region_id=job.region_id,
            job__kind=job.kind,
        )
        .filter(Q(job__program__isnull=True) if job.program_id is None else Q(job__program=job.program_id))
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
    if earlier.kind == ImportKind.INTERVENTIONS:
        return _(
            "Berkas ini sudah pernah diunggah pada %(when)s (unggahan #%(id)s, program %(program)s). Baris yang sudah "
            "tercatat akan dilaporkan sebagai duplikat. Lanjutkan?"
        ) % {
            "when": date_format(when, "j F Y H:i"),
            "id": earlier.pk,
            "program": earlier.program.code if earlier.program else "-",
        }
    return _("Berkas ini sudah pernah diimpor pada %(when)s (impor #%(id)s, %(source)s %(label)s). Lanjutkan?") % {
        "when": date_format(when, "j F Y H:i"),
        "id": earlier.pk,
        "source": str(earlier.source_id or "").upper(),
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
        import_file_store(job=job, kind=kind, upload=files[kind])
    duplicate = earlier_import_of(job=job)
    if duplicate is not None:
        job.duplicate_of = duplicate
        job.save(update_fields=["duplicate_of"])
    return job


def check_suffix(upload: UploadSource) -> None:
    """Only .xlsx and .csv are read (DomainError otherwise)."""
    name = upload.name if isinstance(upload, Path) else (upload.name or "")
    if _suffix(name) not in ALLOWED_SUFFIXES:
        raise DomainError(
            _("Berkas %(name)s bukan .xlsx atau .csv. Simpan ulang sebagai .xlsx (Excel) atau .csv.")
            % {"name": Path(name).name},
            code="file_type",
        )


def import_file_store(*, job: ImportJob, kind: str, upload: UploadSource) -> ImportFile:
    """Store one file of a job, hashing it (sha256) while reading."""
    with _opened(upload) as (handle, name):
        sha256, size = _sha256(handle)
        import_file = ImportFile(job=job, kind=kind, original_name=Path(name).name[:255], sha256=sha256, size=size)
        stored_name = get_valid_filename(f"{job.pk}-{kind}{_suffix(name)}")
        import_file.file.save(stored_name, File(handle, name=stored_name), save=False)
        import_file.save()
    return import_file


def _file_mapping(part: Mapping[str, Any]) -> dict[str, Any]:
    return {"columns": part.get("columns", []), "unmatched": part.get("unmatched", [])}


def import_job_preview(*, job: ImportJob, sample_size: int = PREVIEW_SAMPLE_SIZE) -> ImportJob:
    """Ask the engine for the preview and keep it on the job (and each file's header row and mapping).

    A refused file (``ImportFileError``) fails the job with the engine's message, keeps the refusal as
    ``preview["refused"]`` and raises ``ImportRefusedError``; nothing is written to the registry either way.
    Only a job still ``uploaded`` keeps the result: one cancelled or failed meanwhile gets no preview, so it can
    never be rerun as an import nobody confirmed.
    """
    try:
        preview = engine.preview(job=job, sample_size=sample_size)
    except ImportFileError as exc:
        ImportJob.objects.filter(pk=job.pk, status=ImportStatus.UPLOADED).update(
            status=ImportStatus.FAILED,
            message=exc.message,
            preview={"refused": {"code": exc.code, "message": exc.message}},
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
        raise ImportRefusedError(exc.message, code=exc.code, extra={"job": job.pk}) from exc
    parts = preview_parts(preview)
    with transaction.atomic():
        current = ImportJob.objects.select_for_update().only("status").get(pk=job.pk)
        if current.status != ImportStatus.UPLOADED:
            ImportJob.objects.filter(pk=job.pk).update(preview={})  # engine.preview stored it already
            job.refresh_from_db()
            return job
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
        # The preview's claim ends here: started_at is left for the import run, heartbeat_at is its last sign.
        job.started_at, job.heartbeat_at = None, timezone.now()
        job.save(update_fields=["preview", "rows_total", "error_count", "warning_count", "started_at", "heartbeat_at"])
    return job


def preview_parts(preview: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The per-file parts of a stored preview, keyed by file kind, in upload order."""
    files = preview.get("files", preview)
    order = {kind: i for i, kind in enumerate((FAMILY, PERSON, DTKS, DTSEN, INTERVENTION, VERVAL, CSR_ALLOCATION))}
    parts = {kind: part for kind, part in files.items() if kind in order and isinstance(part, dict)}
    return dict(sorted(parts.items(), key=lambda item: order[item[0]]))


@transaction.atomic
def import_job_upload(
    *,
    actor: Any,
    source: str,
    files: Mapping[str, UploadSource],
    snapshot_label: str,
    snapshot_date: dt.date,
    region: Region,
    dry_run: bool = False,
    send: bool = True,
) -> ImportJob:
    """Create the job (the web upload) and queue its preview task for when the transaction commits: the request
    never parses the whole file. Until a worker has stored the preview the job is "preview pending"; with no
    broker (embedded default) the task runs in-process at the commit."""
    job = import_job_create(
        actor=actor,
        source=source,
        files=files,
        snapshot_label=snapshot_label,
        snapshot_date=snapshot_date,
        region=region,
        dry_run=dry_run,
    )
    import_job_queue_preview(job=job, send=send)
    job.refresh_from_db()
    return job


def import_job_queue_preview(*, job: ImportJob, send: bool = True) -> None:
    """Queue the preview task of an uploaded job for when the transaction commits (every kind of job)."""
    _transition(
        job=job,
        from_status=ImportStatus.UPLOADED,
        to_status=ImportStatus.UPLOADED,
        send=_send_preview if send else None,
    )


# ---------------------------------------------------------------------------------------------- transitions

TaskSender = Callable[[int, str], None]


def _send(job_id: int, task_id: str) -> None:
    from households.tasks import import_job_run

    import_job_run.apply_async(args=[job_id], task_id=task_id)


def _send_preview(job_id: int, task_id: str) -> None:
    from households.tasks import import_job_preview

    import_job_preview.apply_async(args=[job_id], task_id=task_id)


def _transition(
    *,
    job: ImportJob,
    from_status: str,
    to_status: str,
    send: TaskSender | None,
    where: Q | None = None,
    reset: dict[str, Any] | None = None,
) -> bool:
    """to_status ← from_status with a conditional UPDATE; the job then waits for a worker (``heartbeat_at``: since
    when, ``started_at`` empty until one claims it) and ``send`` queues its task when the transaction commits."""
    task_id = str(uuid.uuid4())
    updated = ImportJob.objects.filter(where or Q(), pk=job.pk, status=from_status).update(
        status=to_status, task_id=task_id, started_at=None, heartbeat_at=timezone.now(), **(reset or {})
    )
    if updated and send is not None:
        transaction.on_commit(lambda: send(job.pk, task_id))
    return bool(updated)


def import_job_confirm(
    *, job: ImportJob, accept_duplicate: bool = False, send: bool = True, preview_required: bool = True
) -> ImportJob:
    """Queue an uploaded job once its preview is ready (the command line shows none: ``preview_required=False``).
    A file imported before must be accepted explicitly (``accept_duplicate``)."""
    if job.status != ImportStatus.UPLOADED:
        raise DomainError(_("Impor ini tidak lagi menunggu konfirmasi."), code="not_uploaded")
    if preview_required and preview_pending(job):
        raise DomainError(
            _("Pratinjau belum selesai disiapkan. Tunggu sampai pratinjau tampil, lalu mulai impor."),
            code="preview_pending",
        )
    if job.duplicate_of_id and not accept_duplicate:
        extra = {"duplicate_of": job.duplicate_of_id}
        raise DomainError(duplicate_message(job=job), code="duplicate_file", extra=extra)
    ready = ~Q(preview={}) if preview_required else None
    with transaction.atomic():
        sender = _send if send else None
        if not _transition(
            job=job, from_status=ImportStatus.UPLOADED, to_status=ImportStatus.QUEUED, send=sender, where=ready
        ):
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


def _files_purged_error() -> DomainError:
    message = _(
        "Berkas impor ini sudah dihapus setelah %(days)s hari (masa simpan berkas), sehingga tidak dapat "
        "dijalankan ulang. Unggah ulang berkasnya untuk mengimpor lagi."
    ) % {"days": retention_days()}
    return DomainError(message, code="files_purged")


def import_job_rerun_refusal(*, job: ImportJob) -> DomainError | None:
    """Why the job cannot be run again, or None when it can (the page's button and the action share it)."""
    if job.status != ImportStatus.FAILED:
        return DomainError(_("Hanya impor yang gagal yang dapat dijalankan ulang."), code="not_failed")
    if preview_refusal(job) is not None:
        return DomainError(
            _("Berkas impor ini ditolak saat pratinjau. Perbaiki berkasnya lalu unggah ulang."), code="refused_file"
        )
    if files_purged(job):
        return _files_purged_error()
    return None


def import_job_rerun(*, job: ImportJob, send: bool = True) -> ImportJob:
    """Run a failed job again.

    A confirmed import is queued again: the engine is idempotent, so the rerun gives the registry a complete
    import without duplicates (row errors and reviews of the failed attempt are removed first). A preview that
    never finished (no worker took it, or its worker died) is queued again instead, and the user confirms it
    as after an upload. A file refused at preview, or files deleted by the retention, cannot be rerun.
    """
    refusal = import_job_rerun_refusal(job=job)
    if refusal is not None:
        raise refusal
    as_import = bool(preview_parts(job.preview))
    reset: dict[str, Any] = {"rows_done": 0, "message": "", "summary": {}, "finished_at": None}
    if not as_import:
        reset |= {"preview": {}, "rows_total": 0, "error_count": 0, "warning_count": 0}
    sender = (_send if as_import else _send_preview) if send else None
    with transaction.atomic():
        RowError.objects.filter(job=job).delete()
        LinkageReview.objects.filter(job=job).delete()
        to_status = ImportStatus.QUEUED if as_import else ImportStatus.UPLOADED
        if not _transition(job=job, from_status=ImportStatus.FAILED, to_status=to_status, send=sender, reset=reset):
            raise DomainError(_("Hanya impor yang gagal yang dapat dijalankan ulang."), code="not_failed")
        # The job row is locked now: a purge that got there first has committed (and rolls this back).
        if ImportFile.objects.filter(job_id=job.pk, file="").exists():
            raise _files_purged_error()
    job.refresh_from_db()
    return job


def _worker_activity_since(moment: dt.datetime) -> bool:
    """Whether any worker did import work after ``moment`` (claimed a job or a preview, beat, finished one):
    a job still waiting may then simply be queued behind it."""
    busy = ImportJob.objects.exclude(WAITING).exclude(status=ImportStatus.CANCELLED)
    return busy.filter(heartbeat_at__gte=moment).exists()


def import_jobs_fail_stuck(
    *,
    jobs: QuerySet[ImportJob] | None = None,
    older_than: dt.timedelta | None = None,
    lost_after: dt.timedelta | None = None,
) -> int:
    """Fail the jobs no worker will finish; returns how many. The registry is unchanged in every case.

    * Claimed, heartbeat older than ``older_than`` (settings.IMPORT_STUCK_AFTER_SECONDS): a running import (its
      worker died, and the engine's transaction with it) or a preview being parsed.
    * Waiting longer than ``lost_after`` (settings.IMPORT_QUEUED_LOST_AFTER_SECONDS): a queued import or a
      preview that no worker has claimed, while no worker did any import work in that time either, so nothing
      was ahead of it: its broker message is lost (e.g. Redis was flushed). A job queued behind a long import
      is not: its wait only counts once that import has ended.

    ``jobs`` limits the check (a page checks the jobs it shows); worker activity is always read over all jobs.
    """
    qs = ImportJob.objects.all() if jobs is None else jobs
    now = timezone.now()
    cutoff = now - (older_than or dt.timedelta(seconds=settings.IMPORT_STUCK_AFTER_SECONDS))
    stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    # finished_at: the last sign of life, so the duration shown is how long the worker really ran.
    last_sign = Coalesce("heartbeat_at", "started_at", Now())
    failed = qs.filter(stale, status=ImportStatus.RUNNING).update(
        status=ImportStatus.FAILED, message=stuck_message(), finished_at=last_sign
    )
    failed += qs.filter(stale, PREVIEW_PENDING, started_at__isnull=False).update(
        status=ImportStatus.FAILED, message=preview_stuck_message(), finished_at=last_sign
    )

    lost_after = lost_after or dt.timedelta(seconds=settings.IMPORT_QUEUED_LOST_AFTER_SECONDS)
    lost_cutoff = now - lost_after
    waited = Q(heartbeat_at__lt=lost_cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=lost_cutoff)
    lost = qs.filter(WAITING, waited)
    if lost.exists() and not _worker_activity_since(lost_cutoff):
        seconds = int(lost_after.total_seconds())
        failed += lost.filter(status=ImportStatus.QUEUED).update(
            status=ImportStatus.FAILED, message=queued_lost_message(seconds=seconds), finished_at=Now()
        )
        failed += lost.filter(PREVIEW_PENDING).update(
            status=ImportStatus.FAILED, message=preview_lost_message(seconds=seconds), finished_at=Now()
        )
    return failed


# ------------------------------------------------------------------------------------------------ retention


def _purge_due(cutoff: dt.datetime) -> Q:
    finished = Q(status__in=TERMINAL_STATUSES) & (
        Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    )
    abandoned = Q(status=ImportStatus.UPLOADED, created_at__lt=cutoff)
    return finished | abandoned


def _job_files_purge(*, job_id: int, due: Q, days: int) -> bool:
    """One job, in one transaction with its row locked (a rerun or confirmation waits, then sees the result)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(due, pk=job_id).first()
        if job is None:  # confirmed, rerun or already handled meanwhile
            return False
        abandoned = job.status == ImportStatus.UPLOADED
        if abandoned:  # without its files it could never run
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportStatus.CANCELLED, message=abandoned_message(days=days), finished_at=timezone.now()
            )
        stored = list(ImportFile.objects.filter(job_id=job.pk).exclude(file=""))
        for import_file in stored:
            # A failure raises: nothing is marked, and the next run tries again (deleting twice is harmless).
            import_file.file.storage.delete(import_file.file.name)
        ImportFile.objects.filter(pk__in=[f.pk for f in stored]).update(file="")
    return abandoned or bool(stored)


def import_files_purge(*, now: dt.datetime | None = None) -> int:
    """Delete the stored files of jobs finished (succeeded, failed, cancelled) more than
    ``settings.IMPORT_FILE_RETENTION_DAYS`` days ago, and of uploads never confirmed for as long (cancelled:
    without files they can never run); 0 days keeps every file. Returns how many jobs were purged.

    The ``ImportFile`` rows stay with an empty ``file`` (their sha256 keeps duplicate detection working, their
    name and size the history); the job page then says the files were deleted and offers no rerun. One
    transaction per job; a job whose files cannot be deleted is logged and tried again on the next run.
    """
    days = retention_days()
    if days <= 0:
        return 0
    due = _purge_due((now or timezone.now()) - dt.timedelta(days=days))
    stored = ImportFile.objects.filter(job=OuterRef("pk")).exclude(file="")
    candidates = (
        ImportJob.objects.filter(due)
        .annotate(has_files=Exists(stored))
        .filter(Q(has_files=True) | Q(status=ImportStatus.UPLOADED))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    purged = 0
    for job_id in list(candidates):
        try:
            if _job_files_purge(job_id=job_id, due=due, days=days):
                purged += 1
        except Exception:
            logger.exception("import job %s: stored files not deleted, trying again on the next run", job_id)
    return purged


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


class _PreviewHeartbeat(_Heartbeat):
    """The heartbeat of a preview being parsed: ``heartbeat_at`` only (the engine's preview reports no rows)."""

    def __init__(self, *, job_id: int, claimed_at: dt.datetime) -> None:
        super().__init__(job_id=job_id, claimed_at=claimed_at, rows_total=0, extra=None)

    def _beat(self) -> None:
        try:
            ImportJob.objects.filter(PREVIEW_PENDING, pk=self.job_id, started_at=self.claimed_at).update(
                heartbeat_at=timezone.now()
            )
        except Exception:
            logger.warning("preview heartbeat of import job %s skipped", self.job_id, exc_info=True)


def _update_retrying(filters: Q, **values: Any) -> int:
    try:
        return ImportJob.objects.filter(filters).update(**values)
    except Exception:
        # The connection may have died with the engine (e.g. the database restarted): one retry on a new one.
        connection.close()
        return ImportJob.objects.filter(filters).update(**values)


def import_job_preview_execute(*, job_id: int) -> ImportJob | None:
    """Claim a pending preview and compute it (``import_job_preview``); returns the job, or None when there was
    nothing to claim (claimed by another delivery, cancelled, already previewed). What the preview task runs.

    Failures are data: a refused file fails the job with the engine's message; a timeout or a system error fails
    it with a message in Bahasa Indonesia and no preview, so "Jalankan ulang" prepares the preview again.
    """
    claimed_at = timezone.now()
    claimed = ImportJob.objects.filter(PREVIEW_PENDING, pk=job_id, started_at__isnull=True).update(
        started_at=claimed_at, heartbeat_at=claimed_at
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("source", "region", "created_by").get(pk=job_id)
    failure = ""
    try:
        with _PreviewHeartbeat(job_id=job.pk, claimed_at=claimed_at):
            import_job_preview(job=job)
    except ImportRefusedError as exc:
        logger.info("import job %s: file refused at preview (%s)", job.pk, exc.code)
    except SoftTimeLimitExceeded:
        failure = _(
            "Pratinjau melewati batas waktu dan dihentikan; tidak ada data yang ditulis. Jalankan ulang atau bagi "
            "berkasnya."
        )
    except Exception as exc:
        logger.exception("preview of import job %s failed", job.pk)
        failure = _("Pratinjau gagal karena kesalahan sistem; tidak ada data yang ditulis. Rincian: %(error)s") % {
            "error": f"{type(exc).__name__}: {exc}"[:500]
        }
    if failure:
        # No preview kept (the engine may have stored one before the failure): the rerun prepares it again.
        _update_retrying(
            Q(pk=job.pk, status=ImportStatus.UPLOADED, started_at=claimed_at),
            status=ImportStatus.FAILED,
            message=failure,
            preview={},
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job


def summary_dict(summary: ImportSummary) -> dict[str, Any]:
    """What the job stores: the CLI's JSON (families/persons counts) plus missing, rows read and linkage."""

    def counts(c: Counts) -> dict[str, int]:
        return {**c.as_dict(), "missing": c.missing}

    if summary.kind == ImportKind.VERVAL:
        return {
            "verval": {**summary.verval, "rejected": summary.verval_rejected},
            "rows_read": summary.rows_read,
            "dry_run": summary.dry_run,
            "blocked": summary.blocked,
            "engine": summary.engine,
        }
    if summary.kind == ImportKind.CSR_ALLOCATION:
        return {
            "allocation": {**summary.allocation, "rejected": summary.allocation_rejected},
            "rows_read": summary.rows_read,
            "dry_run": summary.dry_run,
            "blocked": summary.blocked,
            "engine": summary.engine,
        }
    if summary.kind == ImportKind.INTERVENTIONS:
        return {
            "interventions": {
                **summary.interventions.as_dict(),
                "duplicates": summary.interventions.duplicates,
                "skipped": summary.interventions.skipped,
            },
            "rows_read": summary.rows_read,
            "dry_run": summary.dry_run,
            "blocked": summary.blocked,
            "engine": summary.engine,
        }
    return {
        "families": counts(summary.families),
        "persons": counts(summary.persons),
        "rows_read": summary.rows_read,
        "dry_run": summary.dry_run,
        "linkage": dict(summary.linkage),
        "engine": summary.engine,
        "rerun_of": summary.rerun_of,
        "history_mark": summary.history_mark,
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
            message=summary.message,
            rows_total=rows,
            rows_done=rows,
            heartbeat_at=timezone.now(),
            error_count=summary.rejected,
            warning_count=summary.warnings,
        )
        if not job.dry_run and job.kind != ImportKind.CSR_ALLOCATION:  # allocations change no gap figure
            _request_gap_recompute(job)
    job.refresh_from_db()
    return job


def _request_gap_recompute(job: ImportJob) -> None:
    """The registry or the deliveries changed: queue the gap recomputation of the job's kabupaten/kota
    (coalesced with any waiting one). A failure here never fails the import: the nightly run catches up."""
    from reports.services import gap_recompute_after_write

    try:
        years = {job.program.year} if job.program_id and job.program is not None else set()
        gap_recompute_after_write(region_code=str(job.region_id or ""), years=years)
    except Exception:
        logger.exception("import job %s: gap recompute not queued", job.pk)
