"""Gap computations: request (coalesced, queued on commit), execute (locked per year, all or nothing),
and the data the secretariat keeps (targets, boundaries)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Snapshot
from reports import engine
from reports.models import GapRun, GapRunStatus, GapTrigger, GapYearLock
from tkpk.exceptions import DomainError

logger = logging.getLogger(__name__)


def _normalise_region(code: str | None) -> str:
    value = (code or "").replace(".", "").strip()
    if len(value) not in (0, 2, 4, 6, 10) or not (value.isdigit() or not value):
        raise DomainError(_("Kode wilayah tidak dikenal: %(code)s") % {"code": code}, code="invalid_region")
    return value


def _join_or_create(*, year: int, region_code: str, trigger: str, user: Any) -> tuple[GapRun, bool]:
    """The waiting run of the region and year, or a new one (the partial unique index makes it one)."""
    existing = GapRun.objects.filter(year=year, region_code=region_code, status=GapRunStatus.QUEUED).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            run = GapRun.objects.create(
                year=year,
                region_code=region_code,
                trigger=trigger,
                requested_by=user if user is not None and user.is_authenticated else None,
            )
    except IntegrityError:  # another request created the waiting run a moment ago
        return GapRun.objects.get(year=year, region_code=region_code, status=GapRunStatus.QUEUED), False
    return run, True


def _dispatch(*, run_id: int, created: bool, year: int, region_code: str, trigger: str, user: Any) -> None:
    """After the requester's commit: send a new run to the worker. A joined run that already started before
    this commit may not see the requester's writes, so then the request is made again."""
    from reports.tasks import gap_run_execute_task

    if not created:
        status = GapRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
        if status == GapRunStatus.QUEUED:
            return  # it starts after this commit, so it sees it
        run, created = _join_or_create(year=year, region_code=region_code, trigger=trigger, user=user)
        run_id = run.pk
    if created:
        gap_run_execute_task.delay(run_id)


def gap_recompute_request(
    *, year: int, region_code: str = "", trigger: str = GapTrigger.MANUAL, user: Any = None
) -> GapRun:
    """Ask for a computation; returns the waiting run (an existing one for the same region and year when
    there is one: requests coalesce). The task is sent when the caller's transaction commits."""
    region_code = _normalise_region(region_code)
    run, created = _join_or_create(year=year, region_code=region_code, trigger=trigger, user=user)
    transaction.on_commit(
        lambda: _dispatch(
            run_id=run.pk, created=created, year=year, region_code=region_code, trigger=trigger, user=user
        )
    )
    return run


def gap_recompute_after_write(*, region_code: str, years: set[int] | None = None) -> list[GapRun]:
    """After an import or an intervention upload commits: recompute the kabupaten/kota it touched, for the
    current year and any year it wrote."""
    code = _normalise_region(region_code)[:4]
    wanted = {timezone.localdate().year, *(years or set())}
    return [gap_recompute_request(year=y, region_code=code, trigger=GapTrigger.IMPORT) for y in sorted(wanted)]


def _set_progress(run_id: int, progress: int, step: str) -> None:
    """Write progress where the page can see it while the run's own transaction is open: from a short
    thread with its own connection (PostgreSQL). SQLite holds one writer, so there it waits for the end."""
    if connection.vendor == "sqlite" or not connection.in_atomic_block:
        GapRun.objects.filter(pk=run_id).update(progress=progress, step=step)
        return

    def write() -> None:
        try:
            GapRun.objects.filter(pk=run_id).update(progress=progress, step=step)
        except Exception:
            logger.warning("gap run %s: progress not written", run_id, exc_info=True)
        finally:
            connections.close_all()

    thread = threading.Thread(target=write, name=f"gap-progress-{run_id}", daemon=True)
    thread.start()
    thread.join(timeout=10)


def source_snapshots(region_code: str) -> list[dict[str, Any]]:
    """The snapshots a run over ``region_code`` is based on: the newest of each source for each area a snapshot
    was taken for (a whole-registry run lists every kabupaten's), with that area's code."""
    snapshots = Snapshot.objects.select_related("region").order_by("source_id", "region_id", "-taken_on", "-id")
    if region_code:
        around = [region_code[:n] for n in (2, 4, 6, 10) if n <= len(region_code)]
        snapshots = snapshots.filter(
            Q(region__isnull=True) | Q(region__code__in=around) | Q(region__code__startswith=region_code)
        )
    newest: dict[tuple[str, str], Snapshot] = {}
    for snapshot in snapshots:
        newest.setdefault((snapshot.source_id, snapshot.region_id or ""), snapshot)
    return [
        {
            "source": snapshot.source_id,
            "snapshot_id": snapshot.pk,
            "label": snapshot.label,
            "taken_on": snapshot.taken_on.isoformat(),
            "region": snapshot.region_id or "",
        }
        for snapshot in newest.values()
    ]


def _claim(run_id: int) -> GapRun | None:
    claimed = GapRun.objects.filter(pk=run_id, status=GapRunStatus.QUEUED).update(
        status=GapRunStatus.RUNNING, started_at=timezone.now(), progress=1, step=_("Menunggu giliran")
    )
    return GapRun.objects.get(pk=run_id) if claimed else None


def gap_run_execute(*, run_id: int) -> GapRun | None:
    """Run one queued computation. Two computations of the same year never overlap (row lock per year);
    facts and summaries are replaced in one transaction, so a failure leaves the earlier figures."""
    run = _claim(run_id)
    if run is None:
        return None
    try:
        GapYearLock.objects.get_or_create(year=run.year)
        with transaction.atomic():
            GapYearLock.objects.select_for_update().get(year=run.year)
            started = timezone.now()
            engine.prepare_session()
            run.sources = source_snapshots(run.region_code)
            _set_progress(run.pk, 10, _("Menghitung fakta per keluarga"))
            engine.compute_facts(year=run.year, region_code=run.region_code, run=run)
            _set_progress(run.pk, 70, _("Menjumlahkan per desa, kecamatan, kabupaten/kota"))
            figures = engine.compute_summaries(year=run.year, region_code=run.region_code, run=run)
            run.totals = {**figures.counts, **figures.maps}
            run.status, run.progress, run.step = GapRunStatus.DONE, 100, ""
            run.started_at = started
            run.finished_at = timezone.now()
            run.save(update_fields=["sources", "totals", "status", "progress", "step", "started_at", "finished_at"])
    except Exception as exc:
        logger.exception("gap run %s failed", run_id)
        GapRun.objects.filter(pk=run_id).update(
            status=GapRunStatus.FAILED,
            finished_at=timezone.now(),
            message=_("Perhitungan gagal: %(error)s") % {"error": str(exc)[:500]},
        )
        raise
    try:
        engine.vacuum_if_bloated()
    except Exception:  # housekeeping only: the run itself is committed
        logger.warning("gap run %s: vacuum of the facts skipped", run_id, exc_info=True)
    return run


def gap_recompute_now(
    *, year: int, region_code: str = "", trigger: str = GapTrigger.COMMAND, user: Any = None
) -> GapRun:
    """Create (or join the waiting) run and execute it in this process (command line, benchmarks)."""
    code = _normalise_region(region_code)
    run, _created = GapRun.objects.get_or_create(
        year=year, region_code=code, status=GapRunStatus.QUEUED, defaults={"trigger": trigger, "requested_by": user}
    )
    result = gap_run_execute(run_id=run.pk)
    if result is not None:
        return result
    # A worker claimed it first (it was already waiting): wait for the worker's outcome.
    deadline = time.monotonic() + settings.GAP_TASK_TIME_LIMIT
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (GapRunStatus.DONE, GapRunStatus.FAILED):
            break
        time.sleep(0.5)
    return run


def gap_years_to_refresh(today: dt.date | None = None) -> list[int]:
    """The nightly run: the current year, and the previous one during January (late deliveries)."""
    today = today or timezone.localdate()
    return [today.year - 1, today.year] if today.month == 1 else [today.year]


def gap_nightly() -> list[int]:
    """Recompute everything for the current year(s); returns the runs executed."""
    done: list[int] = []
    for year in gap_years_to_refresh():
        run = gap_recompute_request(year=year, trigger=GapTrigger.SCHEDULE)
        done.append(run.pk)
    return done


def latest_run(*, year: int | None = None) -> GapRun | None:
    runs = GapRun.objects.filter(status=GapRunStatus.DONE)
    if year is not None:
        runs = runs.filter(year=year)
    return runs.order_by("-finished_at").first()


def computed_years() -> list[int]:
    return sorted(
        GapRun.objects.filter(status=GapRunStatus.DONE).values_list("year", flat=True).distinct().order_by(),
        reverse=True,
    )


def last_finished_at() -> dt.datetime | None:
    return GapRun.objects.filter(status=GapRunStatus.DONE).aggregate(m=Max("finished_at"))["m"]
