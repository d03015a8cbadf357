"""The import job lifecycle around the worker: the preview as a task, jobs no worker will ever take (a lost
broker message), and the retention of uploaded files.

The services run in-process here (what the tasks run); the Celery path through the real worker is in
test_task_worker.py. The embedded default (no broker: eager tasks) is checked with ``task_always_eager``.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from households.importing import engine, jobs
from households.models import Household, ImportFile, ImportJob, ImportStatus, Person
from tests.factories import load_kendal
from tests.households.importing.jobs_support import SNAPSHOT_DATE, kendal, messy_files, p3ke_paths, secretariat
from tkpk.exceptions import DomainError

pytestmark = pytest.mark.django_db

LOST = "pesan antreannya kemungkinan hilang"


@pytest.fixture(autouse=True)
def _regions() -> None:
    load_kendal()


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def user() -> Any:
    return secretariat()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return messy_files(tmp_path_factory.mktemp("p3ke"))


@pytest.fixture
def eager() -> Iterator[None]:
    """The embedded default: no broker, tasks run in-process (``CELERY_TASK_ALWAYS_EAGER``)."""
    from tkpk.celery import app as celery_app

    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = before


def upload(user: Any, synthetic: Any, **kw: Any) -> ImportJob:
    """The web upload (``import_job_upload``); in these tests its on-commit preview task is never sent."""
    values: dict[str, Any] = {
        "actor": user,
        "source": "p3ke",
        "files": p3ke_paths(synthetic),
        "snapshot_label": "P3KE 2024 S1",
        "snapshot_date": SNAPSHOT_DATE,
        "region": kendal(),
    }
    return jobs.import_job_upload(**{**values, **kw})


def previewed(user: Any, synthetic: Any, **kw: Any) -> ImportJob:
    job = jobs.import_job_preview_execute(job_id=upload(user, synthetic, **kw).pk)
    assert job is not None and jobs.preview_parts(job.preview), job and job.message
    return job


def ago(**delta: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(**delta)


def set_job(job: ImportJob, **values: Any) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(**values)
    job.refresh_from_db()
    return job


def page(client: Any, job: ImportJob, suffix: str = "") -> str:
    response = client.get(f"/registri/impor/{job.pk}/{suffix}")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


# ------------------------------------------------------------------------------------------- preview task


def test_upload_stores_the_files_and_queues_the_preview_on_commit(
    user: Any, files: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = upload(user, files)

    assert len(callbacks) == 1  # the preview task, sent when the upload commits
    assert job.status == ImportStatus.UPLOADED and job.preview == {} and job.task_id
    assert jobs.preview_pending(job) and jobs.import_job_awaits_worker(job)
    assert jobs.import_job_status_label(job) == "Menyiapkan pratinjau"
    assert job.rows_total == 0  # nothing was parsed in the request
    assert job.started_at is None and job.heartbeat_at is not None  # waiting for a worker since the upload
    assert {f.kind for f in job.files.all()} == {"family", "person"}


def test_the_preview_task_claims_once_and_stores_the_whole_file_counts(user: Any, files: Any) -> None:
    from households import tasks

    job = upload(user, files)

    assert tasks.import_job_preview(job.pk) == ImportStatus.UPLOADED  # the task body, in-process

    job.refresh_from_db()
    parts = jobs.preview_parts(job.preview)
    assert parts["family"]["counts"]["rows"] == files.families
    assert parts["person"]["counts"]["rows"] == files.persons
    assert job.rows_total == files.families + files.persons
    assert not jobs.preview_pending(job) and jobs.import_job_status_label(job) == "Diunggah (menunggu konfirmasi)"
    assert job.started_at is None and job.finished_at is None  # the job's duration stays that of the import
    assert {f.kind: f.header_row for f in job.files.all()} == {"family": 1, "person": 1}
    # A second delivery (late ack) finds nothing to claim; the preview wrote nothing to the registry.
    assert tasks.import_job_preview(job.pk) == "not-claimed"
    assert not Household.objects.exists() and not Person.objects.exists()


def test_a_cancelled_upload_has_no_preview_to_prepare(user: Any, files: Any) -> None:
    job = jobs.import_job_cancel(job=upload(user, files))

    assert jobs.import_job_preview_execute(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED and job.preview == {}


def test_a_preview_finishing_after_its_job_failed_is_not_kept(user: Any, files: Any) -> None:
    """Failed meanwhile (e.g. judged lost): keeping the preview would let "Jalankan ulang" start an import
    nobody confirmed. The rerun prepares the preview again instead."""
    job = upload(user, files)
    set_job(job, status=ImportStatus.FAILED, message="gagal")
    job.status = ImportStatus.UPLOADED  # what the worker had read when it started

    job = jobs.import_job_preview(job=job)

    assert job.status == ImportStatus.FAILED and job.preview == {}
    job = jobs.import_job_rerun(job=job, send=False)
    assert job.status == ImportStatus.UPLOADED and jobs.preview_pending(job)


def test_a_system_error_in_the_preview_fails_the_job_and_the_rerun_prepares_it_again(
    user: Any, files: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    job = upload(user, files)

    def broken_parser(path: Path, kind: str) -> Any:
        raise OSError("disk hilang")

    with monkeypatch.context() as patched:
        patched.setattr(engine, "parse_file", broken_parser)  # the engine's seam for swapping the parser
        failed = jobs.import_job_preview_execute(job_id=job.pk)

    assert failed is not None
    job = failed
    assert job.status == ImportStatus.FAILED
    assert job.message.startswith("Pratinjau gagal karena kesalahan sistem; tidak ada data yang ditulis.")
    assert "OSError: disk hilang" in job.message and job.preview == {}
    assert jobs.import_job_rerun_refusal(job=job) is None

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.import_job_rerun(job=job)
    assert len(callbacks) == 1  # the preview task again, not the import
    assert job.status == ImportStatus.UPLOADED and job.message == "" and job.finished_at is None
    again = jobs.import_job_preview_execute(job_id=job.pk)
    assert again is not None and jobs.preview_parts(again.preview)


def test_confirm_waits_for_the_preview(user: Any, files: Any, client: Any) -> None:
    job = upload(user, files)

    with pytest.raises(DomainError) as caught:
        jobs.import_job_confirm(job=job, send=False)
    assert caught.value.code == "preview_pending"
    client.force_login(user)
    response = client.post(f"/registri/impor/{job.pk}/konfirmasi/", follow=True)
    assert "Pratinjau belum selesai disiapkan." in html.unescape(response.content.decode())
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.UPLOADED

    ready = jobs.import_job_preview_execute(job_id=job.pk)
    assert ready is not None
    assert jobs.import_job_confirm(job=ready, send=False).status == ImportStatus.QUEUED


def test_the_history_shows_a_pending_preview(user: Any, files: Any, client: Any) -> None:
    upload(user, files)
    client.force_login(user)
    assert "Menyiapkan pratinjau" in client.get("/registri/impor/").content.decode()


def test_duplicate_question_after_an_asynchronous_preview(user: Any, files: Any, client: Any) -> None:
    earlier = set_job(previewed(user, files), status=ImportStatus.SUCCEEDED, finished_at=timezone.now())
    job = upload(user, files)
    assert job.duplicate_of == earlier  # known at upload (sha256), before any preview
    client.force_login(user)
    assert "sudah pernah diimpor" not in page(client, job)  # asked together with the preview

    jobs.import_job_preview_execute(job_id=job.pk)

    body = page(client, job, "progres/")
    assert "Berkas ini sudah pernah diimpor pada" in body and f"/registri/impor/{earlier.pk}/" in body
    client.post(f"/registri/impor/{job.pk}/konfirmasi/")
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.UPLOADED
    client.post(f"/registri/impor/{job.pk}/konfirmasi/", {"accept_duplicate": "on"})
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.QUEUED


def test_embedded_default_prepares_the_preview_in_the_upload_request(
    user: Any, client: Any, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    """No broker (SQLite, `make run`): the preview task runs in-process when the upload commits, so the job
    page shows the preview at once."""
    client.force_login(user)
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "dtks.xlsx"
    with django_capture_on_commit_callbacks(execute=True), fixture.open("rb") as handle:
        response = client.post(
            "/registri/impor/unggah/",
            {"source": "dtks", "single_file": handle, "snapshot_label": "Uji", "snapshot_date": "2024-06-30",
             "region": "3324"},
        )  # fmt: skip

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/registri/impor/{job.pk}/"
    assert jobs.preview_parts(job.preview) and job.status == ImportStatus.UPLOADED
    body = client.get(response["Location"]).content.decode()
    assert 'data-testid="preview-dtks"' in body and "Pratinjau sedang disiapkan" not in body


# ------------------------------------------------------------------------------------------- lost messages


def queued(user: Any, files: Any, *, waiting: dt.timedelta) -> ImportJob:
    job = jobs.import_job_confirm(job=previewed(user, files), send=False)
    return set_job(job, heartbeat_at=timezone.now() - waiting)


def test_a_queued_job_no_worker_claimed_is_failed_as_lost(user: Any, files: Any, settings: Any) -> None:
    settings.IMPORT_QUEUED_LOST_AFTER_SECONDS = 30 * 60
    lost = queued(user, files, waiting=dt.timedelta(minutes=31))
    recent = queued(user, files, waiting=dt.timedelta(minutes=5))  # no worker did anything since: both wait

    assert jobs.import_jobs_fail_stuck() == 1

    lost.refresh_from_db()
    assert lost.status == ImportStatus.FAILED and lost.finished_at is not None
    assert lost.message == (
        "Tidak ada pekerja latar yang mengambil impor ini selama 30 menit, padahal tidak ada impor lain yang "
        "sedang dikerjakan: pesan antreannya kemungkinan hilang (mis. Redis dikosongkan atau dimulai "
        "ulang). Data tidak berubah. Jalankan ulang."
    )
    assert lost.duration_seconds is None  # it never ran
    assert ImportJob.objects.get(pk=recent.pk).status == ImportStatus.QUEUED
    # "Jalankan ulang" queues the import again (it had a confirmed preview).
    assert jobs.import_job_rerun(job=lost, send=False).status == ImportStatus.QUEUED


@pytest.mark.parametrize("ahead", ["running", "just_finished", "preview_being_parsed"])
def test_a_job_queued_behind_other_work_is_only_waiting(user: Any, files: Any, settings: Any, ahead: str) -> None:
    settings.IMPORT_QUEUED_LOST_AFTER_SECONDS = 30 * 60
    waiting = queued(user, files, waiting=dt.timedelta(hours=2))
    other = previewed(user, files)
    if ahead == "running":  # a long import, still heartbeating
        set_job(other, status=ImportStatus.RUNNING, started_at=ago(hours=2), heartbeat_at=ago(seconds=2))
    elif ahead == "just_finished":  # the worker is only now free: give it time to take the next message
        set_job(other, status=ImportStatus.SUCCEEDED, started_at=ago(hours=2), heartbeat_at=ago(minutes=3),
                finished_at=ago(minutes=3))  # fmt: skip
    else:
        set_job(other, preview={}, started_at=ago(hours=1), heartbeat_at=ago(seconds=2))

    assert jobs.import_jobs_fail_stuck() == 0
    assert ImportJob.objects.get(pk=waiting.pk).status == ImportStatus.QUEUED

    # Once the workers have been idle for the whole threshold, nobody is going to take it.
    ImportJob.objects.exclude(pk=waiting.pk).update(status=ImportStatus.SUCCEEDED, heartbeat_at=ago(minutes=31))
    assert jobs.import_jobs_fail_stuck() == 1
    assert LOST in ImportJob.objects.get(pk=waiting.pk).message


def test_a_preview_no_worker_claimed_is_failed_as_lost_and_rerun_as_a_preview(
    user: Any, files: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.IMPORT_QUEUED_LOST_AFTER_SECONDS = 600
    job = set_job(upload(user, files), heartbeat_at=ago(minutes=11))

    assert jobs.import_jobs_fail_stuck() == 1

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.message == (
        "Tidak ada pekerja latar yang mengambil pratinjau ini selama 10 menit, padahal tidak ada impor lain yang "
        "sedang dikerjakan: pesan antreannya kemungkinan hilang (mis. Redis dikosongkan atau dimulai "
        "ulang). Tidak ada data yang ditulis. Jalankan ulang."
    )
    old_task = job.task_id
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.import_job_rerun(job=job)
    assert len(callbacks) == 1 and job.task_id != old_task
    assert job.status == ImportStatus.UPLOADED and jobs.preview_pending(job) and job.message == ""
    assert jobs.import_jobs_fail_stuck() == 0  # waiting again, from now
    ready = jobs.import_job_preview_execute(job_id=job.pk)
    assert ready is not None and jobs.preview_parts(ready.preview)


def test_a_preview_whose_worker_stopped_is_failed(user: Any, files: Any, settings: Any) -> None:
    settings.IMPORT_STUCK_AFTER_SECONDS = 600
    settings.IMPORT_QUEUED_LOST_AFTER_SECONDS = 1800
    dead = set_job(upload(user, files), started_at=ago(minutes=20), heartbeat_at=ago(minutes=11))
    alive = set_job(upload(user, files), started_at=ago(minutes=40), heartbeat_at=ago(seconds=1))

    assert jobs.import_jobs_fail_stuck() == 1

    dead.refresh_from_db()
    assert dead.status == ImportStatus.FAILED and dead.finished_at == dead.heartbeat_at
    assert dead.message == "Pekerja berhenti saat menyiapkan pratinjau; tidak ada data yang ditulis. Jalankan ulang."
    assert jobs.import_job_rerun_refusal(job=dead) is None
    assert ImportJob.objects.get(pk=alive.pk).status == ImportStatus.UPLOADED  # a long preview, still parsing
    # A redelivered message of the dead preview finds it claimed: it does not parse a second time.
    assert jobs.import_job_preview_execute(job_id=alive.pk) is None


def test_the_job_page_reports_a_lost_job_and_offers_the_rerun(
    user: Any, files: Any, client: Any, settings: Any
) -> None:
    settings.IMPORT_QUEUED_LOST_AFTER_SECONDS = 1800
    job = queued(user, files, waiting=dt.timedelta(hours=1))
    client.force_login(user)

    body = page(client, job, "progres/")  # polled while queued: the check runs there too

    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.FAILED
    assert LOST in body and "Jalankan ulang</button>" in body and "hx-trigger" not in body
    client.post(f"/registri/impor/{job.pk}/ulang/")
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.QUEUED


# ------------------------------------------------------------------------------------------------ retention


def stored_paths(job: ImportJob) -> list[Path]:
    return [Path(f.file.path) for f in ImportFile.objects.filter(job=job)]


def finished(job: ImportJob, status: str, *, days: float) -> ImportJob:
    return set_job(job, status=status, started_at=ago(days=days, minutes=5), finished_at=ago(days=days))


def test_files_of_finished_jobs_past_the_retention_are_deleted_and_their_checksums_kept(
    user: Any, files: Any, settings: Any, client: Any
) -> None:
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    old = finished(previewed(user, files), ImportStatus.SUCCEEDED, days=31)
    young = finished(previewed(user, files), ImportStatus.SUCCEEDED, days=29)
    cancelled = finished(upload(user, files), ImportStatus.CANCELLED, days=40)
    running = set_job(previewed(user, files), status=ImportStatus.RUNNING, started_at=ago(days=40))
    old_paths, young_paths = stored_paths(old), stored_paths(young)
    hashes = {f.kind: f.sha256 for f in old.files.all()}

    assert jobs.import_files_purge() == 2

    assert not any(path.exists() for path in old_paths) and all(path.exists() for path in young_paths)
    for import_file in ImportFile.objects.filter(job__in=[old, cancelled]):
        assert import_file.file.name == "" and import_file.sha256 and import_file.original_name
    assert {f.kind: f.sha256 for f in ImportFile.objects.filter(job=old)} == hashes
    assert all(f.file for f in ImportFile.objects.filter(job__in=[young, running]))
    assert ImportJob.objects.get(pk=old.pk).status == ImportStatus.SUCCEEDED  # the history is unchanged
    assert jobs.import_files_purge() == 0  # nothing left to delete

    # The checksum still recognises the file, though it is gone from the disk.
    assert upload(user, files).duplicate_of == young  # the latest import of the same files
    assert jobs.earlier_import_of(job=set_job(young, status=ImportStatus.FAILED)) == old

    client.force_login(user)
    body = page(client, old)
    assert "Berkas impor ini sudah dihapus setelah 30 hari (masa simpan berkas)." in body
    assert body.count("berkas dihapus") == 2


def test_a_failed_job_without_its_files_cannot_be_rerun(user: Any, files: Any, settings: Any, client: Any) -> None:
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    job = finished(previewed(user, files), ImportStatus.FAILED, days=31)
    set_job(job, message=jobs.stuck_message())
    assert jobs.import_job_rerun_refusal(job=job) is None

    assert jobs.import_files_purge() == 1

    job = ImportJob.objects.get(pk=job.pk)
    refusal = jobs.import_job_rerun_refusal(job=job)
    assert refusal is not None and refusal.code == "files_purged"
    with pytest.raises(DomainError) as caught:
        jobs.import_job_rerun(job=job, send=False)
    assert caught.value.code == "files_purged"
    client.force_login(user)
    body = page(client, job)
    assert "Jalankan ulang</button>" not in body
    assert (
        "Berkas impor ini sudah dihapus setelah 30 hari (masa simpan berkas), sehingga tidak dapat dijalankan "
        "ulang. Unggah ulang berkasnya untuk mengimpor lagi." in body
    )
    response = client.post(f"/registri/impor/{job.pk}/ulang/", follow=True)
    assert "sehingga tidak dapat dijalankan ulang" in html.unescape(response.content.decode())
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.FAILED


def test_a_rerun_racing_the_purge_is_rolled_back(user: Any, files: Any, settings: Any) -> None:
    """The page read the job before the purge; the rerun sees the purge once it holds the job row."""
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    job = finished(previewed(user, files), ImportStatus.FAILED, days=31)
    stale = jobs.import_job_get(user=user, pk=job.pk)  # files prefetched, still stored
    jobs.import_files_purge()

    with pytest.raises(DomainError) as caught:
        jobs.import_job_rerun(job=stale, send=False)

    assert caught.value.code == "files_purged"
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.FAILED


def test_an_upload_never_confirmed_is_cancelled_and_its_files_deleted(
    user: Any, files: Any, settings: Any, client: Any
) -> None:
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    abandoned = set_job(previewed(user, files), created_at=ago(days=31))
    fresh = previewed(user, files)
    paths = stored_paths(abandoned)

    assert jobs.import_files_purge() == 1

    abandoned.refresh_from_db()
    assert abandoned.status == ImportStatus.CANCELLED and abandoned.finished_at is not None
    assert abandoned.message.startswith("Dibatalkan otomatis: impor ini tidak dikonfirmasi dalam 30 hari")
    assert not any(path.exists() for path in paths)
    assert ImportJob.objects.get(pk=fresh.pk).status == ImportStatus.UPLOADED
    with pytest.raises(DomainError):
        jobs.import_job_confirm(job=abandoned, send=False)
    client.force_login(user)
    assert abandoned.message in page(client, abandoned)


def test_retention_zero_keeps_every_file(user: Any, files: Any, settings: Any) -> None:
    settings.IMPORT_FILE_RETENTION_DAYS = 0
    job = finished(previewed(user, files), ImportStatus.SUCCEEDED, days=400)

    assert jobs.import_files_purge() == 0
    assert all(path.exists() for path in stored_paths(job))


def test_the_purge_task_is_thin(user: Any, files: Any, settings: Any) -> None:
    from households import tasks

    settings.IMPORT_FILE_RETENTION_DAYS = 30
    job = finished(previewed(user, files), ImportStatus.SUCCEEDED, days=31)

    assert tasks.import_files_purge() == 1
    assert jobs.files_purged(ImportJob.objects.get(pk=job.pk))
