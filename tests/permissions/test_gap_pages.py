"""Gap dashboard, by-name gap list and its export, verval uploads, periodic reports and graduation × actor × target
(rules in matrix.py, GAP_PAGES).

Besides the status of each request: a refused write changes nothing, an allowed one happens; no page of one region
shows the other region's data (names, snapshot labels, targets, boundaries, reports); the gap list shows exactly the
households the actor may open; every export of the list writes a PersonalDataAccess row (who, which region, which
households); no full NIK or No KK leaves except in the secretariat's own export (Cap.REGISTRY_REVEAL_ID).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.db.models import Model
from django.http import HttpResponse
from openpyxl import load_workbook

from households.models import Graduation, Household, ImportJob, ImportKind, ImportStatus
from reports.models import GapRun, GapRunStatus, PeriodicReport
from tests.permissions.matrix import (
    ACTORS,
    GAP_PAGES,
    GAP_REGION,
    GAP_SIDE,
    GRADUATIONS_SEEN,
    REGION_TARGETS,
    GapPage,
    caps,
    gap_households_listed,
)
from tests.permissions.test_gap_api import other_side_marks
from tests.permissions.test_pages import assert_status
from tests.permissions.world import GAP_MARK, KENDAL, KENDAL_MARK, KUKAR, KUKAR_MARK, World
from tkpk.models import AccessAction, PersonalDataAccess, Region
from tkpk.scoping import Cap

pytestmark = pytest.mark.django_db

CASES = [
    pytest.param(actor, page, target, id=f"{actor}-{target + '-' if target else ''}{page.name}")
    for page in GAP_PAGES
    for actor in ACTORS
    for target in page.targets
]
VERVAL_MARK = {"in-region": "VervalKendal8821", "out-of-region": "VervalKukar8822"}
ACTOR_REGION = {"secretariat_kukar": KUKAR, "secretariat_province": "33"}  # the rest: Kendal


@pytest.fixture
def verval_jobs(world: World) -> dict[str, ImportJob]:
    """An uploaded (previewed) verval sheet on each side of the border."""
    made = {}
    for target, code, owner in (("in-region", KENDAL, "secretariat"), ("out-of-region", KUKAR, "secretariat_kukar")):
        made[target] = ImportJob.objects.create(
            kind=ImportKind.VERVAL,
            region=Region.objects.get(code=code),
            snapshot_label=f"Verval {VERVAL_MARK[target]}",
            snapshot_date=dt.date.today(),
            created_by=world.user(owner),
            status=ImportStatus.UPLOADED,
            preview={"verval": {"counts": {}}},
        )
    return made


def _object(world: World, jobs: dict[str, ImportJob], page: GapPage, target: str | None) -> Model | None:
    if target is None or page.target_kind in (None, "region"):
        return None
    if page.target_kind == "household":
        return world.households[target]
    if page.target_kind == "graduation":
        return world.graduations[GAP_SIDE[target]]
    if page.target_kind == "report":
        return world.periodic_reports[GAP_SIDE[target]]
    return jobs[target]


def _path(page: GapPage, target: str | None, obj: Model | None) -> str:
    values: dict[str, object] = {}
    if page.target_kind == "region" and target is not None:
        values["region"] = GAP_REGION[target]
        values["desa"] = REGION_TARGETS[target]
    elif obj is not None:
        values[str(page.target_kind)] = obj.pk
    return page.path(**values)


def _state(page: GapPage, obj: Model | None) -> Any:
    """What a write to ``page`` would change."""
    if page.name == "gap-recompute":
        return GapRun.objects.filter(status=GapRunStatus.QUEUED).count()
    if page.name == "periodic-request":
        return PeriodicReport.objects.count()
    if page.name == "verval-upload-post":
        return ImportJob.objects.count()
    if page.name == "household-graduate":
        assert isinstance(obj, Household)
        return Graduation.objects.count(), Household.objects.get(pk=obj.pk).status
    if page.name == "graduation-revoke":
        assert obj is not None
        return Graduation.objects.get(pk=obj.pk).revoked_on
    if page.name in ("verval-confirm", "verval-cancel"):
        assert obj is not None
        return ImportJob.objects.get(pk=obj.pk).status
    return None


def text(response: Any) -> str:
    """The body as text; an .xlsx (streamed or not) read cell by cell."""
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
        response = HttpResponse(content, content_type=response["Content-Type"])
    content_type = response.get("Content-Type", "")
    if response.status_code == 200 and content_type.startswith("application/vnd.openxmlformats"):
        try:
            book = load_workbook(io.BytesIO(response.content), read_only=True)
        except Exception:  # the world's periodic report .xlsx is a stand-in file with the mark only
            return response.content.decode(errors="replace")
        return "\n".join(
            " ".join(str(v) for v in row if v is not None)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return response.content.decode(errors="replace")


@pytest.mark.parametrize(("actor", "gap_page", "target"), CASES)
def test_gap_page(
    as_actor: Any, world: World, verval_jobs: dict[str, ImportJob], actor: str, gap_page: GapPage, target: str | None
) -> None:
    obj = _object(world, verval_jobs, gap_page, target)
    path = _path(gap_page, target, obj)
    mark = f"Tanda{actor.replace('_', '')}{gap_page.name.replace('-', '')}"
    data = {
        k: v.format(mark=mark, year=dt.date.today().year, today=dt.date.today().isoformat()) for k, v in gap_page.data
    }
    before = _state(gap_page, obj)
    logs_before = set(PersonalDataAccess.objects.values_list("pk", flat=True))

    client = as_actor(actor)
    response = client.post(path, data) if gap_page.method == "POST" else client.get(path)

    expected = gap_page.expect(actor, target)
    assert_status(response, expected)
    body = text(response)
    for other_target, job_mark in VERVAL_MARK.items():
        if obj is None or other_target != target or expected != 200:
            assert job_mark not in body
    # Full identifiers: only in the secretariat's own gap-list export (it may reveal them).
    reveals = gap_page.name.startswith("gap-export") and Cap.REGISTRY_REVEAL_ID in caps(actor)
    if not reveals:
        for secret in world.secret_identifiers:
            assert secret not in body, f"a full NIK / No KK on {path} for {actor}"

    # Writes: refused → nothing changed; allowed → done.
    after = _state(gap_page, obj)
    if gap_page.method == "POST":
        writes = expected == 302 and gap_page.name not in ("verval-upload-post", "verval-confirm")
        if gap_page.name == "household-graduate" and expected == 302:
            assert after != before  # graduated (the world's households are all active)
        elif writes:
            assert after != before, f"{actor}: {gap_page.name} answered {expected} but changed nothing"
        elif gap_page.name != "verval-confirm" or expected != 302:
            assert after == before, f"{actor}: refused {gap_page.name} changed {before} → {after}"

    new_logs = PersonalDataAccess.objects.exclude(pk__in=logs_before)
    if expected != 200:
        assert not new_logs.filter(action=AccessAction.EXPORT).exists()
    if expected == 200 and gap_page.name.startswith("gap-households"):
        _assert_lists_only_listed(world, actor, target, body, desa=gap_page.name.endswith("-desa"))
    if expected == 200 and gap_page.name.startswith("gap-export"):
        _assert_lists_only_listed(world, actor, target, body)
        listed = gap_households_listed(actor, target)
        (log,) = new_logs.filter(action=AccessAction.EXPORT)
        assert log.user_id == world.user(actor).pk
        assert log.object_type == "gap_list"
        assert sorted(log.object_ids) == sorted(world.households[t].pk for t in listed)
        asked = GAP_REGION[target].replace(".", "") if target else ACTOR_REGION.get(actor, KENDAL)
        assert log.region_code == asked
    if expected == 200 and gap_page.name.startswith("periodic-download"):
        assert target is not None
        assert GAP_MARK[GAP_SIDE[target]] in body
    # Last (so the checks above run too): nothing of the other region, anywhere on the page or in the file.
    for other in other_side_marks(actor):
        assert other not in body, f"{actor} sees another region's data ({other}) on {path}: {_around(body, other)}"


def _around(body: str, needle: str) -> str:
    at = body.find(needle)
    return " ".join(body[max(0, at - 120) : at + 60].split())


def _assert_lists_only_listed(world: World, actor: str, target: str | None, body: str, desa: bool = False) -> None:
    listed = gap_households_listed(actor, target, desa)
    for household_target, household in world.households.items():
        shown = household.head_name in body
        assert shown == (household_target in listed), (
            f"{actor}: {household_target} household {'missing from' if not shown else 'LEAKED on'} the gap list"
        )


@pytest.mark.parametrize("actor", ACTORS)
def test_gap_list_view_is_logged(as_actor: Any, world: World, actor: str) -> None:
    """Opening the by-name list is logged like a by-name registry page (who, which households, which region)."""
    before = set(PersonalDataAccess.objects.values_list("pk", flat=True))
    response = as_actor(actor).get("/kesenjangan/keluarga/")
    logs = list(PersonalDataAccess.objects.exclude(pk__in=before))
    listed = gap_households_listed(actor, None)
    if response.status_code != 200 or not listed:
        assert logs == []
        return
    (log,) = logs
    assert log.user_id == world.user(actor).pk
    assert sorted(log.object_ids) == sorted(world.households[t].pk for t in listed)


def test_periodic_request_for_another_region_is_refused(as_actor: Any, world: World) -> None:
    """?wilayah= of another kabupaten never queues a report for it (the service checks the region)."""
    before = PeriodicReport.objects.filter(region_id=KUKAR).count()
    as_actor("secretariat").post(
        f"/laporan-berkala/?wilayah={KUKAR}", {"year": dt.date.today().year, "period": "year", "wilayah": KUKAR}
    )
    assert PeriodicReport.objects.filter(region_id=KUKAR).count() == before


@pytest.mark.parametrize("actor", ["leadership", "opd_officer", "partner"])
def test_no_gap_manage_button_for_readers(as_actor: Any, actor: str) -> None:
    """Read-only roles see no recompute / generate / export controls (they would answer 403 anyway)."""
    client = as_actor(actor)
    for path in ("/kesenjangan/", "/laporan-berkala/", "/kesenjangan/keluarga/"):
        response = client.get(path)
        if response.status_code != 200:
            continue
        body = response.content.decode()
        assert 'action="/kesenjangan/hitung-ulang/"' not in body, path
        assert "unduh.xlsx" not in body, path


@pytest.mark.parametrize("actor", ACTORS)
def test_household_page_graduation_section(as_actor: Any, world: World, actor: str) -> None:
    """The household page lists graduation records the actor may read (GraduationQuerySet: secretariat and OPD of
    the region; a partner none, leadership opens no household) and offers the form only with Cap.GAP_MANAGE."""
    household = world.households["in-region"]
    response = as_actor(actor).get(f"/registri/keluarga/{household.pk}/")
    if response.status_code != 200:
        return
    body = response.content.decode()
    reason = world.graduations["kendal"].reason
    assert (reason in body) == ("in-region" in GRADUATIONS_SEEN[actor]), f"{actor}: graduation record shown"
    assert (f"/registri/keluarga/{household.pk}/graduasi/" in body) == (Cap.GAP_MANAGE in caps(actor))


@pytest.mark.parametrize("actor", ["secretariat", "secretariat_kukar"])
def test_generated_periodic_report_holds_only_its_region(as_actor: Any, world: World, actor: str) -> None:
    """A real report (as the worker makes it), downloaded through the page: the .xlsx names the region's own
    organizations and programs, nothing of the other region."""
    from reports import periodic

    code = KUKAR if actor == "secretariat_kukar" else KENDAL
    report = periodic.periodic_report_request(
        user=world.user(actor), region=Region.objects.get(code=code), year=dt.date.today().year, period="year"
    )
    done = periodic.periodic_report_execute(report_id=report.pk)
    assert done is not None and done.status == GapRunStatus.DONE, done.message if done else None

    response = as_actor(actor).get(f"/laporan-berkala/{report.pk}/unduh/xlsx/")

    assert response.status_code == 200
    body = text(response)
    own = KUKAR_MARK if actor == "secretariat_kukar" else KENDAL_MARK
    assert own in body, "the report should name the region's own organizations"
    for other in other_side_marks(actor):
        assert other not in body, f"the {code} periodic report shows {other}: {_around(body, other)}"
    for secret in world.secret_identifiers:
        assert secret not in body
    other_actor = "secretariat" if actor == "secretariat_kukar" else "secretariat_kukar"
    assert as_actor(other_actor).get(f"/laporan-berkala/{report.pk}/unduh/pdf/").status_code == 404
