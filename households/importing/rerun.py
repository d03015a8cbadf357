"""Running files that are already in the registry again: recognised by checksum, answered without re-reading.

Re-reading a million-row P3KE pair only to find every row unchanged costs most of a first import (parsing is
most of it). When the very same files (kind and SHA-256 each) were imported, with the same engine, into the
same snapshot, by the latest import of that source in the region, and no household or person has changed
since by any path (their history event counts are those the import left), a new run can only find every
row unchanged: same rows rejected and warned, same records, nothing to write. The run then takes the
earlier result instead of re-reading: created and updated become unchanged, row errors are copied,
nothing in the registry is written.

PostgreSQL only (the proof that nothing changed is the history, which SQLite does not keep), and P3KE only
(a DTKS/DTSEN re-run reports linkage counts of its own). ``IMPORT_SKIP_IDENTICAL_RERUN = False`` turns it
off (the benchmark measures both).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection

from households.importing.types import Counts, ImportSummary
from households.models import (
    HouseholdSourceLink,
    ImportFile,
    ImportJob,
    ImportStatus,
    PersonSourceLink,
    RowError,
    Snapshot,
)

SOURCES = frozenset({"p3ke"})
ENGINE_KEY = "engine"
RERUN_KEY = "rerun_of"
HISTORY_KEY = "history_mark"


@cache
def engine_fingerprint() -> str:
    """SHA-256 of the import engine's source: a result is only reused by the engine that produced it."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _files(job: ImportJob) -> dict[str, str]:
    return dict(ImportFile.objects.filter(job=job).values_list("kind", "sha256"))


def history_mark(source_id: str) -> list[int]:
    """How many history events households and persons have, and how many links the source has: any
    committed change since makes it differ (links have no history of their own; an admin deleting one
    changes their count).

    Counted inside the import's transaction after its writes (so they are included). A count, not the newest
    event id or time: a change committed by another session after the import started has an older id and
    time than the import's own events but still adds to the count.
    """
    mark = [apps.get_model("households", name).objects.count() for name in ("HouseholdEvent", "PersonEvent")]
    for link in (HouseholdSourceLink, PersonSourceLink):
        mark.append(link.objects.filter(source_id=source_id).count())
    return mark


def identical_earlier_import(job: ImportJob) -> ImportJob | None:
    """The earlier import whose result this job would repeat exactly (see the module docstring), or None."""
    if (
        connection.vendor != "postgresql"
        or job.dry_run
        or job.source_id not in SOURCES
        or not getattr(settings, "IMPORT_SKIP_IDENTICAL_RERUN", True)
    ):
        return None
    latest = (
        ImportJob.objects.filter(
            source_id=job.source_id, region_id=job.region_id, status=ImportStatus.SUCCEEDED, dry_run=False
        )
        .exclude(pk=job.pk)
        .order_by("-finished_at", "-pk")
        .first()
    )
    if latest is None or latest.snapshot_id is None or latest.finished_at is None:
        return None
    if (latest.summary or {}).get(ENGINE_KEY) != engine_fingerprint():
        return None
    if _files(latest) != _files(job) or not _files(job):
        return None
    snapshot = Snapshot.objects.filter(source_id=job.source_id, label=job.snapshot_label).first()
    if job.snapshot_id is not None and job.snapshot_id != latest.snapshot_id:
        return None
    if job.snapshot_id is None and (snapshot is None or snapshot.pk != latest.snapshot_id):
        return None
    if (latest.summary or {}).get(HISTORY_KEY) != history_mark(job.source_id):
        return None
    return latest


def _counts(stored: dict[str, Any]) -> Counts:
    return Counts(
        unchanged=int(stored.get("created", 0)) + int(stored.get("updated", 0)) + int(stored.get("unchanged", 0)),
        rejected=int(stored.get("rejected", 0)),
        warnings=int(stored.get("warnings", 0)),
        missing=int(stored.get("missing", 0)),
    )


def repeat(*, job: ImportJob, earlier: ImportJob) -> ImportSummary:
    """This job's result from the earlier one: counts (all unchanged), snapshot, row errors, file mappings."""
    stored = earlier.summary or {}
    summary = ImportSummary(
        families=_counts(stored.get("families", {})),
        persons=_counts(stored.get("persons", {})),
        rows_read=int(stored.get("rows_read", 0)),
        dry_run=False,
    )
    RowError.objects.filter(job=job).delete()
    fields = ["file", "row_number", "column", "value", "code", "message", "severity"]
    RowError.objects.bulk_create(
        (RowError(job=job, **row) for row in RowError.objects.filter(job=earlier).order_by("pk").values(*fields)),
        batch_size=5000,
    )
    earlier_files = {f.kind: f for f in ImportFile.objects.filter(job=earlier)}
    for import_file in ImportFile.objects.filter(job=job):
        source = earlier_files[import_file.kind]
        import_file.header_row, import_file.mapping = source.header_row, source.mapping
        import_file.save(update_fields=["header_row", "mapping"])
    ImportJob.objects.filter(pk=job.pk).update(
        snapshot_id=earlier.snapshot_id, error_count=earlier.error_count, warning_count=earlier.warning_count
    )
    job.snapshot_id = earlier.snapshot_id
    return summary
