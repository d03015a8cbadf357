"""Gap recomputations on the real Celery worker (PostgreSQL pass only): queued once when an intervention upload
commits, coalesced while waiting, never sent from a rolled-back transaction, and never two of one year at once.

The tests commit (``transaction=True``) so the worker sees their rows; ``serialized_rollback`` restores the
seeded reference data (need rules, assistance kinds, sources) the flush after each test removes.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections, transaction
from django.utils import timezone
from openpyxl import Workbook

from households.importing import jobs
from households.models import ImportStatus
from programs import importing
from reports import tasks
from reports.models import GapHouseholdFact, GapRun, GapRunStatus, GapSummary, GapTrigger, GapYearLock
from reports.services import gap_recompute_request
from tests import factories as f
from tests.conftest import CeleryWorker
from tkpk.scoping import Role

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

YEAR = timezone.localdate().year
TIMEOUT = 90
BLUMAH = "3324012001"


def wait_for(predicate: Callable[[], Any], *, what: str, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


def finished(run_id: int) -> GapRun | None:
    run = GapRun.objects.get(pk=run_id)
    return run if run.status in (GapRunStatus.DONE, GapRunStatus.FAILED) else None


def wait_done(run_id: int, worker: CeleryWorker) -> GapRun:
    try:
        run = wait_for(lambda: finished(run_id), what=f"gap run {run_id}")
    except AssertionError:
        raise AssertionError(f"gap run {run_id} not finished; worker log:\n{worker.log_tail()}") from None
    assert run.status == GapRunStatus.DONE, run.message
    return run


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Run ids sent to the broker by this process (the real ``delay`` still sends them)."""
    calls: list[int] = []
    real = tasks.gap_run_execute_task.delay

    def spy(run_id: int) -> Any:
        calls.append(run_id)
        return real(run_id)

    monkeypatch.setattr(tasks.gap_run_execute_task, "delay", spy)
    return calls


def upload(tmp_path: Path, officer: Any, program: Any, id_keluarga: str) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ID Keluarga P3KE", "NIK", "Tanggal Penyaluran", "Nilai (Rp)", "Jumlah", "Status", "Keterangan"])
    sheet.append([id_keluarga, "", timezone.localdate(), 250000, 1, "Tersalurkan", ""])
    path = tmp_path / "penyaluran.xlsx"
    workbook.save(path)
    job = importing.intervention_job_create(actor=officer, program=program, upload=path)
    jobs.import_job_preview(job=job)
    job = jobs.import_job_confirm(job=job, accept_duplicate=True, send=False)
    done = jobs.import_job_execute(job_id=job.pk)
    assert done is not None and done.status == ImportStatus.SUCCEEDED, done and done.message


def test_an_intervention_upload_queues_one_recompute_that_the_worker_runs(
    tmp_path: Path, settings: Any, celery_worker_process: CeleryWorker, sent: list[int]
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    officer = f.user_with_role(Role.OPD_OFFICER)
    program = f.ProgramFactory(organization=officer.test_organization, year=YEAR)
    household = f.HouseholdFactory(desa=f.desa(BLUMAH), desil=1)
    f.HouseholdSourceLinkFactory(external_id="P3KE-GAP-1", household=household)
    f.HouseholdFactory(desa=f.desa(BLUMAH), desil=1)  # not reached by the upload
    assert not GapRun.objects.exists()

    upload(tmp_path, officer, program, "P3KE-GAP-1")

    run = GapRun.objects.get()  # exactly one, for the upload's kabupaten and year
    assert (run.year, run.region_code, run.trigger) == (YEAR, "3324", GapTrigger.IMPORT)
    assert sent == [run.pk]
    run = wait_done(run.pk, celery_worker_process)
    kendal = GapSummary.objects.get(year=YEAR, region_code="3324")
    assert (kendal.households, kendal.covered, kendal.desil1_uncovered) == (2, 1, 1)
    assert kendal.run_id == run.pk
    assert GapRun.objects.count() == 1


def test_two_requests_before_the_worker_starts_coalesce_into_one_run(
    celery_worker_process: CeleryWorker, sent: list[int]
) -> None:
    f.HouseholdFactory(desa=f.desa(BLUMAH), desil=1)
    with transaction.atomic():  # nothing reaches the broker before the commit
        first = gap_recompute_request(year=YEAR, region_code="33.24", trigger=GapTrigger.IMPORT)
        second = gap_recompute_request(year=YEAR, region_code="3324", trigger=GapTrigger.MANUAL)
        assert second.pk == first.pk
        assert sent == []
    assert sent == [first.pk]
    wait_done(first.pk, celery_worker_process)
    assert GapRun.objects.count() == 1
    assert GapSummary.objects.get(year=YEAR, region_code="3324").households == 1


def test_a_request_in_a_rolled_back_transaction_queues_nothing(
    celery_worker_process: CeleryWorker, sent: list[int]
) -> None:
    with transaction.atomic():
        gap_recompute_request(year=YEAR, region_code="33.24", trigger=GapTrigger.IMPORT)
        transaction.set_rollback(True)
    assert sent == []
    assert not GapRun.objects.exists()
    # A later request is queued normally (no stale waiting run blocks it).
    run = gap_recompute_request(year=YEAR, region_code="33.24", trigger=GapTrigger.IMPORT)
    assert sent == [run.pk]
    wait_done(run.pk, celery_worker_process)


@pytest.fixture
def year_lock_held() -> Iterator[Callable[[], dt.datetime]]:
    """Hold the year's computation lock from another connection; the returned callable releases it and
    returns the moment it did."""
    GapYearLock.objects.get_or_create(year=YEAR)
    locked, release = threading.Event(), threading.Event()
    released: list[dt.datetime] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                GapYearLock.objects.select_for_update().get(year=YEAR)
                locked.set()
                release.wait(TIMEOUT)
                released.append(timezone.now())
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold, name="gap-year-lock", daemon=True)
    thread.start()
    assert locked.wait(10)

    def unlock() -> dt.datetime:
        release.set()
        thread.join(10)
        return released[0]

    try:
        yield unlock
    finally:
        release.set()
        thread.join(10)


def test_two_computations_of_one_year_never_overlap(
    celery_worker_process: CeleryWorker, sent: list[int], year_lock_held: Callable[[], dt.datetime]
) -> None:
    f.HouseholdFactory(desa=f.desa(BLUMAH), desil=1)
    # Another computation of the year (here: the held lock) is running; a whole-registry run is requested.
    blocked = gap_recompute_request(year=YEAR, trigger=GapTrigger.MANUAL)
    wait_for(
        lambda: GapRun.objects.filter(pk=blocked.pk, status=GapRunStatus.RUNNING).exists(), what="the worker's claim"
    )
    time.sleep(2)
    waiting = GapRun.objects.get(pk=blocked.pk)
    assert waiting.status == GapRunStatus.RUNNING and waiting.finished_at is None
    assert not GapSummary.objects.exists()

    # Requests meanwhile for the same region and year coalesce into one new waiting run.
    later = gap_recompute_request(year=YEAR, trigger=GapTrigger.IMPORT)
    again = gap_recompute_request(year=YEAR, trigger=GapTrigger.IMPORT)
    assert later.pk == again.pk != blocked.pk
    assert sent == [blocked.pk, later.pk]

    released_at = year_lock_held()
    first = wait_done(blocked.pk, celery_worker_process)
    second = wait_done(later.pk, celery_worker_process)
    assert first.started_at is not None and first.finished_at is not None
    assert second.started_at is not None
    assert first.started_at >= released_at  # it computed only once the lock was free
    assert second.started_at >= first.finished_at  # one after the other, never together
    assert GapSummary.objects.get(year=YEAR, region_code="3324").run_id == second.pk


def test_a_request_joining_a_waiting_run_is_not_lost_when_that_run_starts_before_the_commit(
    celery_worker_process: CeleryWorker, sent: list[int], year_lock_held: Callable[[], dt.datetime]
) -> None:
    """Coalescing must not drop a write: the waiting run a request joins may start (and finish) before the
    requesting transaction commits; the write must still be counted by a later run."""
    f.HouseholdFactory(desa=f.desa(BLUMAH), desil=1)
    busy = gap_recompute_request(year=YEAR, trigger=GapTrigger.MANUAL)  # claimed, waits for the year lock
    wait_for(lambda: GapRun.objects.filter(pk=busy.pk, status=GapRunStatus.RUNNING).exists(), what="the claim")
    waiting = gap_recompute_request(year=YEAR, trigger=GapTrigger.IMPORT)  # queued behind it

    with transaction.atomic():  # an import writes a household and asks for a recompute
        imported = f.HouseholdFactory(desa=f.desa(BLUMAH), desil=1)
        joined = gap_recompute_request(year=YEAR, trigger=GapTrigger.IMPORT)
        assert joined.pk == waiting.pk
        year_lock_held()  # both runs now execute while the import has not committed yet
        wait_done(busy.pk, celery_worker_process)
        wait_done(waiting.pk, celery_worker_process)

    try:
        wait_for(lambda: household_counted(imported.pk), what="a run that counts the imported household", timeout=30)
    except AssertionError:
        runs = list(GapRun.objects.order_by("id").values_list("id", "status", "trigger"))
        raise AssertionError(f"imported household never counted; runs {runs}, sent {sent}") from None


def household_counted(household_id: int) -> bool:
    return GapHouseholdFact.objects.filter(household_id=household_id, year=YEAR).exists()
