"""Import job lifecycle services: upload (sha256, duplicates), preview, confirm/queue, cancel, run, rerun, stuck.

These run the real engine in-process (``import_job_execute``, as the CLI does); the Celery path is in
test_task_worker.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from households.importing import jobs
from households.models import Household, ImportJob, ImportStatus, Person, RowError
from tests.factories import load_kendal, load_region, region, user_with_role
from tests.households.importing.jobs_support import (
    SNAPSHOT_DATE,
    kendal,
    messy_files,
    p3ke_paths,
    refused_csv,
    secretariat,
    uploaded,
)
from tkpk.exceptions import DomainError
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db


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


def create(user: Any, synthetic: Any, **kw: Any) -> ImportJob:
    values: dict[str, Any] = {
        "actor": user,
        "source": "p3ke",
        "files": p3ke_paths(synthetic),
        "snapshot_label": "P3KE 2024 S1",
        "snapshot_date": SNAPSHOT_DATE,
        "region": kendal(),
    }
    return jobs.import_job_create(**{**values, **kw})


def run(job: ImportJob, **kw: Any) -> ImportJob:
    """preview → confirm (no task) → execute in-process."""
    job = jobs.import_job_preview(job=job)
    job = jobs.import_job_confirm(job=job, send=False, **kw)
    done = jobs.import_job_execute(job_id=job.pk)
    assert done is not None
    return done


# ------------------------------------------------------------------------------------------------- upload


def test_create_stores_the_files_with_sha256_and_size(user: Any, files: Any) -> None:
    job = create(user, files, files={"family": uploaded(files.family["xlsx"]), "person": files.person["xlsx"]})

    assert job.status == ImportStatus.UPLOADED
    assert job.region_id == "3324" and job.created_by == user and job.source_id == "p3ke"
    stored = {f.kind: f for f in job.files.all()}
    assert set(stored) == {"family", "person"}
    for kind, path in p3ke_paths(files).items():
        content = path.read_bytes()
        assert stored[kind].sha256 == hashlib.sha256(content).hexdigest()
        assert stored[kind].size == len(content)
        assert stored[kind].original_name == path.name
        assert Path(stored[kind].file.path).read_bytes() == content
    assert job.duplicate_of is None


@pytest.mark.parametrize(
    ("source", "names", "code"),
    [
        ("p3ke", ["family"], "files_missing"),
        ("dtks", ["family", "person"], "files_missing"),
        ("sensus", ["family"], "source_unknown"),
    ],
)
def test_create_refuses_a_wrong_set_of_files(user: Any, files: Any, source: str, names: list[str], code: str) -> None:
    with pytest.raises(DomainError) as caught:
        create(user, files, source=source, files={name: p3ke_paths(files)[name] for name in names})
    assert caught.value.code == code
    assert not ImportJob.objects.exists()


def test_create_refuses_a_file_that_is_not_xlsx_or_csv(user: Any, files: Any, tmp_path: Path) -> None:
    pdf = tmp_path / "p3ke.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(DomainError) as caught:
        create(user, files, files={"family": pdf, "person": files.person["xlsx"]})
    assert caught.value.code == "file_type"
    assert ".xlsx" in caught.value.message


def succeeded(job: ImportJob, **kw: Any) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.SUCCEEDED, finished_at=timezone.now(), **kw)
    job.refresh_from_db()
    return job


def test_a_file_of_an_earlier_successful_import_is_recognised(user: Any, files: Any, tmp_path: Path) -> None:
    first = succeeded(create(user, files))
    other_person_file = tmp_path / "lain.xlsx"
    other_person_file.write_bytes(files.person["xlsx"].read_bytes() + b"\0")  # different bytes, same family file

    second = create(user, files, files={"family": files.family["xlsx"], "person": other_person_file})

    assert second.duplicate_of == first
    message = jobs.duplicate_message(job=second)
    assert message.startswith("Berkas ini sudah pernah diimpor pada ")
    assert message.endswith("Lanjutkan?")
    assert f"#{first.pk}" in message


@pytest.mark.parametrize("earlier", ["failed", "dry_run", "other_region", "uploaded"])
def test_only_successful_real_imports_of_the_same_region_count_as_duplicates(
    user: Any, files: Any, earlier: str
) -> None:
    if earlier == "other_region":
        load_region("64.02")
        succeeded(create(user, files, region=region("6402")))
    elif earlier == "dry_run":
        succeeded(create(user, files, dry_run=True))
    elif earlier == "failed":
        job = create(user, files)
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED)
    else:
        create(user, files)

    assert create(user, files).duplicate_of is None


# ------------------------------------------------------------------------------------------------ preview


def test_preview_counts_the_whole_file_and_writes_nothing(user: Any, files: Any) -> None:
    job = jobs.import_job_preview(job=create(user, files))

    parts = jobs.preview_parts(job.preview)
    assert list(parts) == ["family", "person"]
    family, person = parts["family"], parts["person"]
    assert family["header_row"] == 1
    assert family["counts"]["rows"] == files.families
    assert person["counts"]["rows"] == files.persons
    for part in (family, person):
        counts = part["counts"]
        assert counts["valid"] + counts["warning"] + counts["rejected"] == counts["rows"]
        assert 0 < len(part["sample"]) <= jobs.PREVIEW_SAMPLE_SIZE
    # The preview is parsing plus region codes; duplicates and missing families are found by the run's SQL.
    set_based = ("duplicate_id", "family_missing")
    per_row = [r for r in files.expected.rows if r.severity == "error" and r.code not in set_based]
    assert family["counts"]["rejected"] == sum(r.kind == "family" for r in per_row)
    assert person["counts"]["rejected"] == sum(r.kind == "person" for r in per_row)
    assert job.rows_total == files.families + files.persons
    assert job.error_count == family["counts"]["rejected"] + person["counts"]["rejected"]
    stored = {f.kind: f for f in job.files.all()}
    assert stored["family"].header_row == 1
    assert any(c["field"] == "id_keluarga" for c in stored["family"].mapping["columns"])
    assert job.status == ImportStatus.UPLOADED
    assert not Household.objects.exists() and not Person.objects.exists()


def test_a_refused_file_fails_the_job_with_the_engines_message(user: Any, files: Any, tmp_path: Path) -> None:
    job = create(user, files, files={"family": refused_csv(tmp_path), "person": files.person["xlsx"]})

    with pytest.raises(jobs.ImportRefusedError) as caught:
        jobs.import_job_preview(job=job)

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.message == caught.value.message != ""
    assert caught.value.extra["job"] == job.pk
    assert jobs.preview_refusal(job) == {"code": caught.value.code, "message": job.message}
    assert jobs.preview_parts(job.preview) == {}
    assert not Household.objects.exists()
    with pytest.raises(DomainError) as rerun:
        jobs.import_job_rerun(job=job)
    assert rerun.value.code == "refused_file"


# ------------------------------------------------------------------------------------------ confirm / queue


def test_confirm_queues_the_task_on_commit(
    user: Any, files: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from households import tasks

    sent: list[tuple[Any, str]] = []
    monkeypatch.setattr(tasks.import_job_run, "apply_async", lambda args, task_id: sent.append((args, task_id)))
    job = jobs.import_job_preview(job=create(user, files))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.import_job_confirm(job=job)
    assert job.status == ImportStatus.QUEUED
    assert len(callbacks) == 1 and sent == []  # nothing leaves before the commit

    callbacks[0]()
    assert sent == [([job.pk], job.task_id)]


def test_a_duplicate_must_be_accepted_before_anything_runs(user: Any, files: Any) -> None:
    succeeded(create(user, files))
    job = jobs.import_job_preview(job=create(user, files))

    with pytest.raises(DomainError) as caught:
        jobs.import_job_confirm(job=job, send=False)
    assert caught.value.code == "duplicate_file"
    assert "sudah pernah diimpor" in caught.value.message
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED

    assert jobs.import_job_confirm(job=job, accept_duplicate=True, send=False).status == ImportStatus.QUEUED


def test_confirm_twice_is_refused(user: Any, files: Any) -> None:
    job = jobs.import_job_confirm(job=jobs.import_job_preview(job=create(user, files)), send=False)
    stale = ImportJob.objects.get(pk=job.pk)
    stale.status = ImportStatus.UPLOADED  # a second tab still showing the preview
    with pytest.raises(DomainError) as caught:
        jobs.import_job_confirm(job=stale, send=False)
    assert caught.value.code == "not_uploaded"


def test_cancel_before_the_run_and_the_task_then_has_nothing_to_claim(user: Any, files: Any) -> None:
    job = jobs.import_job_confirm(job=jobs.import_job_preview(job=create(user, files)), send=False)

    job = jobs.import_job_cancel(job=job)

    assert job.status == ImportStatus.CANCELLED and job.finished_at is not None
    assert jobs.import_job_execute(job_id=job.pk) is None
    with pytest.raises(DomainError):
        jobs.import_job_cancel(job=job)


# ---------------------------------------------------------------------------------------------------- run


def test_execute_claims_runs_and_stores_the_summary(user: Any, files: Any) -> None:
    job = run(create(user, files))

    assert job.status == ImportStatus.SUCCEEDED, job.message
    summary = job.summary
    assert summary["families"]["created"] == Household.objects.count() > 0
    assert summary["persons"]["created"] == Person.objects.count() > 0
    assert summary["families"]["rejected"] == files.expected.families_rejected
    assert summary["persons"]["rejected"] == files.expected.persons_rejected
    assert job.error_count == summary["families"]["rejected"] + summary["persons"]["rejected"]
    assert job.rows_done == job.rows_total == files.families + files.persons
    assert job.progress_percent == 100
    assert job.started_at <= job.heartbeat_at <= job.finished_at
    assert job.duration_seconds is not None
    assert RowError.objects.filter(job=job, severity="error").count() >= job.error_count
    # A second delivery of the same task finds nothing to claim.
    assert jobs.import_job_execute(job_id=job.pk) is None


def test_dry_run_computes_the_counts_and_writes_nothing(user: Any, files: Any) -> None:
    job = run(create(user, files, dry_run=True))

    assert job.status == ImportStatus.SUCCEEDED, job.message
    assert job.summary["dry_run"] is True
    assert job.summary["families"]["rejected"] == files.expected.families_rejected
    assert not Household.objects.exists() and not Person.objects.exists()


def test_a_file_refused_during_the_run_fails_the_job_and_writes_nothing(user: Any, files: Any, tmp_path: Path) -> None:
    job = create(user, files, files={"family": refused_csv(tmp_path), "person": files.person["xlsx"]})
    job = jobs.import_job_confirm(job=job, send=False, preview_required=False)  # no preview: as the command line

    job = jobs.import_job_execute(job_id=job.pk)

    assert job is not None and job.status == ImportStatus.FAILED
    assert job.message
    assert not Household.objects.exists() and not Person.objects.exists()


def test_rerun_of_a_failed_job_completes_without_duplicates(user: Any, files: Any) -> None:
    first = run(create(user, files))
    households, persons = Household.objects.count(), Person.objects.count()
    ImportJob.objects.filter(pk=first.pk).update(status=ImportStatus.FAILED, message=jobs.stuck_message())
    first.refresh_from_db()

    job = jobs.import_job_rerun(job=first, send=False)
    assert job.status == ImportStatus.QUEUED
    assert job.started_at is None and job.rows_done == 0 and job.message == "" and job.summary == {}
    assert not RowError.objects.filter(job=job).exists()

    job = jobs.import_job_execute(job_id=job.pk)
    assert job is not None and job.status == ImportStatus.SUCCEEDED, job.message
    assert (Household.objects.count(), Person.objects.count()) == (households, persons)
    assert job.summary["families"]["created"] == 0 and job.summary["persons"]["created"] == 0
    assert job.summary["families"]["unchanged"] == households


@pytest.mark.parametrize("status", [ImportStatus.UPLOADED, ImportStatus.QUEUED, ImportStatus.SUCCEEDED])
def test_only_failed_jobs_may_be_rerun(user: Any, files: Any, status: str) -> None:
    job = create(user, files)
    ImportJob.objects.filter(pk=job.pk).update(status=status, preview={"family": {}})
    job.refresh_from_db()
    with pytest.raises(DomainError) as caught:
        jobs.import_job_rerun(job=job, send=False)
    assert caught.value.code == "not_failed"


# -------------------------------------------------------------------------------------------------- stuck


def running(user: Any, files: Any, *, heartbeat_age: dt.timedelta | None) -> ImportJob:
    job = create(user, files)
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING,
        started_at=now - dt.timedelta(hours=1),
        heartbeat_at=None if heartbeat_age is None else now - heartbeat_age,
    )
    job.refresh_from_db()
    return job


def test_a_running_job_with_a_stale_heartbeat_is_marked_failed(user: Any, files: Any, settings: Any) -> None:
    settings.IMPORT_STUCK_AFTER_SECONDS = 600
    stale = running(user, files, heartbeat_age=dt.timedelta(minutes=11))
    never = running(user, files, heartbeat_age=None)
    alive = running(user, files, heartbeat_age=dt.timedelta(seconds=5))

    assert jobs.import_jobs_fail_stuck() == 2

    for job in (stale, never):
        job.refresh_from_db()
        assert job.status == ImportStatus.FAILED
        assert job.message == "Pekerja berhenti di tengah impor; data tidak berubah. Jalankan ulang."
        # Finished at its last sign of life, so the duration is how long the worker really ran.
        assert job.finished_at == (job.heartbeat_at or job.started_at)
    alive.refresh_from_db()
    assert alive.status == ImportStatus.RUNNING
    assert jobs.import_jobs_fail_stuck(older_than=dt.timedelta(seconds=1)) == 1


def test_stuck_detection_can_be_limited_to_the_users_jobs(user: Any, files: Any) -> None:
    load_region("64.02")
    mine = running(user, files, heartbeat_age=dt.timedelta(hours=1))
    theirs = running(user_with_role(Role.SECRETARIAT, "6402"), files, heartbeat_age=dt.timedelta(hours=1))
    ImportJob.objects.filter(pk=theirs.pk).update(region=region("6402"))

    assert jobs.import_jobs_fail_stuck(jobs=jobs.import_job_list(user=user)) == 1
    assert ImportJob.objects.get(pk=mine.pk).status == ImportStatus.FAILED
    assert ImportJob.objects.get(pk=theirs.pk).status == ImportStatus.RUNNING


# -------------------------------------------------------------------------------------------------- reads


def test_reads_are_scoped_to_the_secretariat_region(user: Any, files: Any) -> None:
    load_region("64.02")
    mine = create(user, files)
    kukar_user = user_with_role(Role.SECRETARIAT, "6402")
    theirs = create(kukar_user, files, region=region("6402"))

    assert list(jobs.import_job_list(user=user)) == [mine]
    assert list(jobs.import_job_list(user=kukar_user)) == [theirs]
    assert list(jobs.import_job_list(user=user_with_role(Role.OPD_OFFICER, "3324"))) == []
    assert [r.code for r in jobs.import_regions_for(user=user)] == ["3324"]
    assert jobs.import_regions_for(user=user_with_role(Role.OPD_OFFICER, "3324")) == []


# -------------------------------------------------------------------------------------------------- pages

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def post_upload(client: Any, data: dict[str, Any]) -> Any:
    return client.post("/registri/impor/unggah/", {"snapshot_label": "Uji", "snapshot_date": "2024-06-30",
                                                  "region": "3324", **data})  # fmt: skip


def test_upload_page_creates_the_job_and_shows_the_preview(
    user: Any, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with (FIXTURES / "dtks.xlsx").open("rb") as handle:
            response = post_upload(client, {"source": "dtks", "single_file": handle, "dry_run": "on"})

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/registri/impor/{job.pk}/"
    assert (job.source_id, job.dry_run, job.status) == ("dtks", True, ImportStatus.UPLOADED)
    assert len(callbacks) == 1 and job.task_id  # the preview task leaves when the upload commits
    # Until a worker has parsed the file, the job page says so and polls (the request parsed nothing).
    page = client.get(response["Location"]).content.decode()
    assert "Pratinjau sedang disiapkan…" in page and "Menyiapkan pratinjau" in page
    assert f'hx-get="/registri/impor/{job.pk}/progres/"' in page and 'hx-trigger="every 1s"' in page
    assert 'data-testid="preview-dtks"' not in page and 'data-testid="confirm-form"' not in page

    assert jobs.import_job_preview_execute(job_id=job.pk) is not None  # what the preview task runs

    partial = client.get(f"/registri/impor/{job.pk}/progres/").content.decode()
    assert 'data-testid="preview-dtks"' in partial and "IDDTKS" in partial and "hx-trigger" not in partial
    page = client.get(response["Location"]).content.decode()
    assert "Pratinjau impor" in page and 'data-testid="preview-dtks"' in page and "IDDTKS" in page
    assert "Mulai uji coba" in page and "Pratinjau sedang disiapkan" not in page


def test_upload_of_a_refused_file_shows_the_engines_message(user: Any, client: Any, tmp_path: Path) -> None:
    client.force_login(user)
    with refused_csv(tmp_path).open("rb") as handle:
        response = post_upload(client, {"source": "dtsen", "single_file": handle})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/registri/impor/{job.pk}/"

    jobs.import_job_preview_execute(job_id=job.pk)  # the preview task refuses the file

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    for url in (response["Location"], f"/registri/impor/{job.pk}/progres/"):  # page, and the polled partial
        body = html.unescape(client.get(url).content.decode())
        assert "Berkas ditolak; tidak ada data yang ditulis." in body
        assert job.message in body
        assert "Perbaiki berkasnya lalu unggah ulang." in body and "/registri/impor/unggah/" in body
        assert "Jalankan ulang</button>" not in body and "hx-trigger" not in body
    assert not Household.objects.exists()


def test_upload_form_asks_for_the_files_of_the_source(user: Any, client: Any) -> None:
    client.force_login(user)
    response = post_upload(client, {"source": "p3ke"})
    assert response.status_code == 200
    assert response.content.decode().count("Pilih berkas .xlsx atau .csv.") == 2
    assert not ImportJob.objects.exists()


def test_confirm_page_asks_before_importing_a_file_again(user: Any, client: Any, files: Any) -> None:
    earlier = succeeded(create(user, files))
    job = jobs.import_job_preview(job=create(user, files))
    client.force_login(user)

    page = client.get(f"/registri/impor/{job.pk}/").content.decode()
    assert "Berkas ini sudah pernah diimpor pada" in page and f"/registri/impor/{earlier.pk}/" in page

    response = client.post(f"/registri/impor/{job.pk}/konfirmasi/", follow=True)
    assert "Lanjutkan?" in response.content.decode()
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.UPLOADED

    client.post(f"/registri/impor/{job.pk}/konfirmasi/", {"accept_duplicate": "on"})
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.QUEUED


def test_progress_partial_polls_while_running_and_stops_when_done(user: Any, client: Any, files: Any) -> None:
    job = create(user, files)
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, rows_total=200, rows_done=50, started_at=now, heartbeat_at=now
    )
    client.force_login(user)

    running_html = client.get(f"/registri/impor/{job.pk}/progres/").content.decode()
    assert 'hx-trigger="every 1s"' in running_html and 'aria-valuenow="25"' in running_html
    assert "50 dari 200 baris" in running_html

    ImportJob.objects.filter(pk=job.pk).update(rows_done=200)
    assert 'aria-valuenow="99"' in client.get(f"/registri/impor/{job.pk}/progres/").content.decode()

    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.SUCCEEDED, finished_at=timezone.now(),
                                               summary={"families": {"created": 7}, "persons": {}})  # fmt: skip
    done_html = client.get(f"/registri/impor/{job.pk}/progres/").content.decode()
    assert "hx-trigger" not in done_html and 'aria-valuenow="100"' in done_html and "Impor selesai" in done_html


def test_history_page_lists_jobs_in_a_fixed_number_of_queries(
    user: Any, client: Any, files: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        create(user, files)
    client.force_login(user)
    client.get("/registri/impor/")  # warm the session and scope
    with django_assert_max_num_queries(12):
        response = client.get("/registri/impor/")
    assert response.status_code == 200
    assert response.content.decode().count('href="/registri/impor/') >= 5 + 1


def test_embedded_default_runs_the_confirmed_job_in_process(
    user: Any, files: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """No broker (SQLite, `make run`): the task runs eagerly when the confirmation commits."""
    from tkpk.celery import app as celery_app

    job = jobs.import_job_preview(job=create(user, files))
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            jobs.import_job_confirm(job=job)
    finally:
        celery_app.conf.task_always_eager = eager

    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED, job.message
    assert job.summary["families"]["created"] == Household.objects.count() > 0


# -------------------------------------------------------------------------------------------------- tasks


def test_tasks_are_thin_and_the_stuck_check_is_scheduled(user: Any, files: Any, settings: Any) -> None:
    from households import tasks
    from tkpk.celery import app as celery_app

    job = create(user, files)
    assert tasks.import_job_run(job.pk) == "not-claimed"  # uploaded, not queued: nothing to claim
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.UPLOADED

    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, started_at=timezone.now() - dt.timedelta(hours=2), heartbeat_at=None
    )
    assert tasks.import_jobs_fail_stuck() == 1

    for name in ("households.tasks.import_job_run", "households.tasks.import_job_preview"):
        task = celery_app.tasks[name]
        assert task.acks_late and task.reject_on_worker_lost
        assert task.time_limit and task.soft_time_limit and task.soft_time_limit < task.time_limit
        assert task.time_limit <= settings.CELERY_TASK_TIME_LIMIT  # below the broker's visibility timeout
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"households.tasks.import_jobs_fail_stuck", "households.tasks.import_files_purge"} <= scheduled
