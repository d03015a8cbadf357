"""Imports through the real Celery worker on Redis: the web flow end to end (the preview is a task too), a refused
file, a lost queue message, the retention of uploaded files, and a worker killed mid-import.

PostgreSQL pass only (``celery_worker`` marker). The session worker (tests/conftest.py) runs the web flow; the
kill test starts its own worker on its own queue so that killing it leaves the session worker alone.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from households.importing import jobs
from households.importing.synthetic import p3ke_files_write
from households.models import (
    Household,
    HouseholdSourceLink,
    ImportFile,
    ImportJob,
    ImportStatus,
    Person,
    PersonSourceLink,
    RowError,
)
from tests.conftest import BASE_DIR, CeleryWorker, _database_url
from tests.factories import HouseholdFactory, PersonFactory, load_kendal
from tests.households.importing.jobs_support import (
    SNAPSHOT_DATE,
    kendal,
    messy_files,
    p3ke_paths,
    refused_csv,
    secretariat,
    sources,
    wait_for,
    wait_terminal,
)
from tkpk.celery import app as celery_app

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker]

# Big enough that the apply transaction is still writing when the worker is killed (~30k rows; the test waits
# for its write lock on the household table before the kill).
KILL_FAMILIES = int(os.environ.get("TKPK_TEST_KILL_FAMILIES", "6000"))


@pytest.fixture
def world(transactional_db: None) -> Iterator[Any]:
    sources()
    load_kendal()
    user = secretariat(first_name="Rina")
    yield user
    for import_file in ImportFile.objects.all():  # the worker shares MEDIA_ROOT: remove what the test uploaded
        import_file.file.delete(save=False)


def registry_counts() -> tuple[int, int, int, int]:
    return (
        Household.objects.count(),
        Person.objects.count(),
        HouseholdSourceLink.objects.count(),
        PersonSourceLink.objects.count(),
    )


def upload(client: Client, files: Any, fmt: str = "xlsx", **extra: str) -> Any:
    with files.family[fmt].open("rb") as family, files.person[fmt].open("rb") as person:
        return client.post(
            "/registri/impor/unggah/",
            {
                "source": "p3ke",
                "family_file": family,
                "person_file": person,
                "snapshot_label": "P3KE 2024 Semester 1",
                "snapshot_date": "2024-06-30",
                "region": "3324",
                **extra,
            },
        )


def wait_preview(job_id: int, timeout: float = 120) -> ImportJob:
    """The worker has finished the job's preview (stored it, or failed the job)."""

    def done() -> ImportJob | None:
        job = ImportJob.objects.get(pk=job_id)
        return None if jobs.preview_pending(job) else job

    return wait_for(done, timeout=timeout, what=f"the preview of import job {job_id}")


def test_web_flow_upload_preview_confirm_runs_on_the_worker(
    world: Any, client: Client, tmp_path: Path, celery_worker_process: CeleryWorker
) -> None:
    files = messy_files(tmp_path, families=40, seed=9)
    client.force_login(world)

    response = upload(client, files)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.get()
    assert response["Location"] == f"/registri/impor/{job.pk}/"
    # The worker parses the files (the upload request did not); meanwhile the page polls for the preview.
    job = wait_preview(job.pk)
    assert job.status == ImportStatus.UPLOADED, f"{job.message}\n{celery_worker_process.log_tail()}"
    partial = client.get(f"/registri/impor/{job.pk}/progres/").content.decode()
    assert 'data-testid="preview-family"' in partial and "hx-trigger" not in partial
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    assert "Pratinjau impor" in preview.content.decode()
    assert job.rows_total == files.families + files.persons
    assert not Household.objects.exists()  # the preview wrote nothing

    response = client.post(f"/registri/impor/{job.pk}/konfirmasi/")
    assert response.status_code == 302
    job = wait_terminal(job.pk, timeout=180)

    assert job.status == ImportStatus.SUCCEEDED, f"{job.message}\n{celery_worker_process.log_tail()}"
    summary = job.summary
    assert summary["families"]["created"] == Household.objects.count() > 0
    assert summary["persons"]["created"] == Person.objects.count() > 0
    assert summary["families"]["rejected"] == files.expected.families_rejected
    assert summary["persons"]["rejected"] == files.expected.persons_rejected
    assert job.rows_done == job.rows_total and job.progress_percent == 100
    assert job.task_id and job.heartbeat_at is not None and job.duration_seconds is not None

    status = client.get(f"/registri/impor/{job.pk}/progres/").content.decode()
    assert "100 %" in status and "hx-trigger" not in status  # polling stops at the end
    result = client.get(f"/registri/impor/{job.pk}/").content.decode()
    assert "Impor selesai" in result and "Unduh laporan kesalahan" in result
    report = client.get(f"/registri/impor/{job.pk}/kesalahan.xlsx")
    assert report.status_code == 200
    path = tmp_path / "laporan.xlsx"
    path.write_bytes(b"".join(report.streaming_content))
    workbook = load_workbook(path, read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert len(rows) - 1 == RowError.objects.filter(job=job).count() > 0


def test_a_refused_file_fails_on_the_worker_and_the_job_page_says_why(
    world: Any, client: Client, tmp_path: Path, celery_worker_process: CeleryWorker
) -> None:
    client.force_login(world)
    with refused_csv(tmp_path).open("rb") as handle:
        response = client.post(
            "/registri/impor/unggah/",
            {"source": "dtsen", "single_file": handle, "snapshot_label": "DTSEN salah", "snapshot_date": "2024-06-30",
             "region": "3324"},
        )  # fmt: skip
    assert response.status_code == 302

    job = wait_terminal(ImportJob.objects.get().pk, timeout=120)

    assert job.status == ImportStatus.FAILED, celery_worker_process.log_tail()
    assert jobs.preview_refusal(job) is not None and job.message
    body = html.unescape(client.get(response["Location"]).content.decode())
    assert "Berkas ditolak; tidak ada data yang ditulis." in body and job.message in body
    assert not Household.objects.exists() and not RowError.objects.exists()


def test_a_lost_queue_message_fails_the_job_and_the_rerun_completes(
    world: Any, client: Client, tmp_path: Path, settings: Any, celery_worker_process: CeleryWorker
) -> None:
    files = messy_files(tmp_path, families=20, seed=5)
    client.force_login(world)
    assert upload(client, files).status_code == 302
    job = wait_preview(ImportJob.objects.get().pk)
    assert jobs.preview_parts(job.preview), job.message

    # The confirmation's message goes to a queue no worker consumes, which is then emptied: as if Redis had
    # been flushed between the confirmation and any worker picking it up.
    lost_queue = f"{celery_worker_process.queue}.lost"
    default_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = lost_queue
    try:
        assert client.post(f"/registri/impor/{job.pk}/konfirmasi/").status_code == 302
    finally:
        celery_app.conf.task_default_queue = default_queue
    with celery_app.connection_for_write() as conn:
        assert conn.default_channel.queue_purge(lost_queue) == 1
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.QUEUED

    settings.IMPORT_QUEUED_LOST_AFTER_SECONDS = 2  # the check runs when the page polls (and from beat)
    time.sleep(3)
    status = html.unescape(client.get(f"/registri/impor/{job.pk}/progres/").content.decode())

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "Tidak ada pekerja latar yang mengambil impor ini selama 2 detik" in job.message
    assert job.message in status and "Jalankan ulang</button>" in status
    assert not Household.objects.exists()

    assert client.post(f"/registri/impor/{job.pk}/ulang/").status_code == 302
    job = wait_terminal(job.pk, timeout=180)
    assert job.status == ImportStatus.SUCCEEDED, f"{job.message}\n{celery_worker_process.log_tail()}"
    assert job.summary["families"]["created"] == Household.objects.count() > 0


def test_the_purge_task_deletes_old_files_on_the_worker(
    world: Any, tmp_path: Path, celery_worker_process: CeleryWorker
) -> None:
    from households import tasks

    files = messy_files(tmp_path, families=10, seed=3)
    job = jobs.import_job_create(
        actor=world,
        source="p3ke",
        files=p3ke_paths(files),
        snapshot_label="P3KE lama",
        snapshot_date=SNAPSHOT_DATE,
        region=kendal(),
    )
    long_ago = timezone.now() - dt.timedelta(days=45)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.SUCCEEDED, finished_at=long_ago)
    paths = [Path(f.file.path) for f in job.files.all()]
    assert all(path.exists() for path in paths)

    tasks.import_files_purge.delay()

    wait_for(lambda: not ImportFile.objects.filter(job=job).exclude(file="").exists(), timeout=60, what="the purge")
    assert not any(path.exists() for path in paths)
    assert ImportFile.objects.filter(job=job).exclude(sha256="").count() == 2


# ------------------------------------------------------------------------------------------ killed worker


def start_worker(queue: str, database_name: str, log_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(database_name),
        "DJANGO_SETTINGS_MODULE": "tkpk.settings",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    celery_bin = Path(sys.executable).with_name("celery")
    command = [str(celery_bin)] if celery_bin.exists() else [sys.executable, "-m", "celery"]
    command += ["-A", "tkpk", "worker", "--pool=solo", "--loglevel=info", "-Q", queue, "-n", f"kill-{os.getpid()}@%h"]
    command += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    with log_path.open("wb") as log:
        return subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)


def registry_writer_pid() -> int | None:
    """The backend of another session holding a write lock on the household table: the engine's apply
    transaction is open and writing."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = %s AND l.mode = 'RowExclusiveLock' AND l.granted AND l.pid <> pg_backend_pid()",
            [Household._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def test_a_worker_killed_mid_import_leaves_nothing_partial_and_the_rerun_completes(
    world: Any, client: Client, tmp_path: Path, settings: Any, celery_worker_process: CeleryWorker
) -> None:
    # Some registry rows that are not in the file: they must be exactly as before after the kill.
    for _ in range(3):
        PersonFactory(household=HouseholdFactory())
    before = registry_counts()
    files = p3ke_files_write(directory=tmp_path, families=KILL_FAMILIES, seed=21, formats=("csv",))
    job = jobs.import_job_create(
        actor=world,
        source="p3ke",
        files={"family": files.family["csv"], "person": files.person["csv"]},
        snapshot_label="P3KE besar",
        snapshot_date=SNAPSHOT_DATE,
        region=kendal(),
    )
    job = jobs.import_job_preview(job=job)  # in this process: the session worker stays out of it

    queue = f"{celery_worker_process.queue}.kill"
    worker = start_worker(queue, celery_worker_process.database_name, tmp_path / "kill-worker.log")
    default_queue = celery_app.conf.task_default_queue
    try:
        celery_app.conf.task_default_queue = queue
        try:
            jobs.import_job_confirm(job=job)  # autocommit: sent at once, to the kill worker's queue
        finally:
            celery_app.conf.task_default_queue = default_queue

        def log() -> str:
            return (tmp_path / "kill-worker.log").read_text(errors="replace")[-4000:]

        wait_for(
            lambda: ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING, rows_done__gt=0).exists(),
            timeout=180,
            what="the kill worker to report progress",
        )
        writer = wait_for(registry_writer_pid, timeout=180, interval=0.05, what="the apply transaction to write")
        assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.RUNNING, log()

        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)

        assert registry_counts() == before  # nothing committed
        wait_for(lambda: not backend_alive(writer), timeout=120, what="the killed worker's session to end")
        assert registry_counts() == before  # and nothing after its session ended: the transaction rolled back
        assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.RUNNING  # nobody has noticed yet
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=30)
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)

    # The stuck detection (short threshold here) runs when the progress page is polled.
    settings.IMPORT_STUCK_AFTER_SECONDS = 2
    client.force_login(world)
    time.sleep(3)
    status = client.get(f"/registri/impor/{job.pk}/progres/").content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.message == "Pekerja berhenti di tengah impor; data tidak berubah. Jalankan ulang."
    assert job.message in status and "Jalankan ulang" in status
    assert registry_counts() == before

    # "Jalankan ulang": the session worker completes it, without duplicates.
    response = client.post(f"/registri/impor/{job.pk}/ulang/")
    assert response.status_code == 302
    job = wait_terminal(job.pk, timeout=600)
    assert job.status == ImportStatus.SUCCEEDED, f"{job.message}\n{celery_worker_process.log_tail()}"
    created = job.summary["families"]["created"]
    assert created == files.families - job.summary["families"]["rejected"]
    households, persons, household_links, person_links = registry_counts()
    assert households == before[0] + created
    assert persons == before[1] + job.summary["persons"]["created"]
    assert household_links == before[2] + created
    assert person_links == before[3] + job.summary["persons"]["created"]
