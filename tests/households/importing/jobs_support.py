"""Helpers for the import-job tests (jobs, task/worker, CLI, report, e2e): users, files, waiting."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from households.importing.synthetic import SyntheticFiles, p3ke_files_write
from households.models import ImportJob, ImportStatus
from tests.factories import region, source, user_with_role
from tkpk.scoping import Role

KENDAL = "3324"
SNAPSHOT_DATE = dt.date(2024, 6, 30)
TERMINAL = (ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.CANCELLED)


def sources() -> None:
    """The seeded sources (a transactional test's flush removes migration data)."""
    for code in ("p3ke", "dtks", "dtsen"):
        source(code)


def secretariat(**kw: Any) -> Any:
    return user_with_role(Role.SECRETARIAT, KENDAL, **kw)


def messy_files(directory: Path, *, families: int = 30, seed: int = 11, fmt: str = "xlsx") -> SyntheticFiles:
    """Small P3KE family + person files with the synthetic generator's known bad rows."""
    return p3ke_files_write(directory=directory, families=families, seed=seed, messy=True, formats=(fmt,))


def p3ke_paths(files: SyntheticFiles, fmt: str = "xlsx") -> dict[str, Path]:
    return {"family": files.family[fmt], "person": files.person[fmt]}


def uploaded(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def refused_csv(directory: Path, name: str = "bukan_p3ke.csv") -> Path:
    """A CSV with no recognisable P3KE header: the engine must refuse it."""
    path = directory / name
    path.write_text("catatan rapat;tanggal\nbelanja ATK;2024-01-02\nrapat koordinasi;2024-01-03\n", encoding="utf-8")
    return path


def kendal() -> Any:
    return region(KENDAL)


def wait_for(predicate: Callable[[], Any], *, timeout: float, interval: float = 0.2, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or predicate}")
        time.sleep(interval)


def wait_terminal(job_id: int, timeout: float = 120) -> ImportJob:
    def done() -> ImportJob | None:
        job = ImportJob.objects.get(pk=job_id)
        return job if job.status in TERMINAL else None

    return wait_for(done, timeout=timeout, what=f"import job {job_id} to finish")
