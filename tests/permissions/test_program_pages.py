"""Program portal, intervention import and activity report pages × actor × row in/out of scope.

Each row of matrix.PROGRAM_PAGES says who gets what (login, 403, 404, or the page's own answer); every case
also checks that the body names no program, report or region the actor may not see, carries no full NIK or
No KK, and that a refused write (403/404, or a form error) changed nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Model

from households.models import ImportJob, ImportKind, ImportStatus, RowError
from programs.models import ActivityReport, ActivityReportStatus, Intervention, InterventionStatus, Program
from tests.permissions.matrix import (
    ACTORS,
    HOUSEHOLDS_SEEN,
    JOB_TARGETS,
    LOGIN,
    PROGRAM_PAGES,
    REPORTS_OPENED,
    ProgramPage,
    board_reader,
    program_page_changes,
    visible_program_marks,
)
from tests.permissions.test_pages import assert_status, body_text
from tests.permissions.world import (
    IN_REGION,
    KENDAL_DESA,
    KENDAL_MARK,
    KENDAL_OTHER_DESA,
    KUKAR_AGENCY,
    KUKAR_DESA,
    KUKAR_MARK,
    OTHER_AGENCY,
    OUT_OF_REGION,
    OWN_AGENCY,
    PARTNER_B_ALLOCATED,
    PARTNER_B_PROGRAM,
    PARTNER_PROGRAM,
    PROGRAM_MARK,
    PROGRAM_OWNER,
    REPORT_MARK,
    UNALLOCATED,
    World,
)
from tkpk.models import Organization

pytestmark = pytest.mark.django_db

WRITE_MARK = "Tulisan7788"  # what a POST writes ({mark} in ProgramPage.data)
REFUSED = (403, 404, LOGIN)
# Region marks an actor may meet (its own name carries its region's mark).
REGION_MARKS_ALLOWED: dict[str, frozenset[str]] = {
    actor: frozenset(
        {KUKAR_MARK}
        if actor == "secretariat_kukar"
        else set()
        if actor in ("no_membership", "anonymous")
        else {KENDAL_MARK}
    )
    for actor in ACTORS
}

CASES = [
    pytest.param(actor, page, target, id=f"{actor}-{target + '-' if target else ''}{page.name}")
    for page in PROGRAM_PAGES
    for actor in ACTORS
    for target in page.targets
]


JOB_MARK = {key: f"Unggah{mark}" for key, mark in PROGRAM_MARK.items()}


@pytest.fixture
def intervention_jobs(world: World) -> dict[str, ImportJob]:
    """One uploaded intervention job per JOB_TARGETS program, by an officer of its owner, with a row error."""
    made = {}
    for key in JOB_TARGETS:
        program = world.programs[key]
        job = ImportJob.objects.create(
            kind=ImportKind.INTERVENTIONS,
            program=program,
            region_id=program.region_id,
            snapshot_label=JOB_MARK[key],
            snapshot_date=dt.date.today(),
            created_by=world.users[PROGRAM_OWNER[key]],
            status=ImportStatus.UPLOADED,
            preview={"delivery": {"header_row": 1, "columns": [], "unmatched": [], "sample": [], "counts": {}}},
        )
        RowError.objects.create(
            job=job, file="delivery", row_number=2, column="NIK", value=JOB_MARK[key], code="required",
            message=f"{JOB_MARK[key]} kosong",
        )  # fmt: skip
        made[key] = job
    return made


def target_object(world: World, kind: str | None, target: str | None, jobs: dict[str, ImportJob]) -> Model | None:
    if kind is None or target is None:
        return None
    objects: dict[str, Any] = {
        "job": jobs,
        "program": world.programs,
        "intervention": world.interventions,
        "report": world.activity_reports,
        "household": world.households,
        "organization": world.organizations,
    }[kind]
    return objects[target]  # type: ignore[no-any-return]


def state(obj: Model | None) -> tuple[Any, ...]:
    """What a write could change on the target row."""
    if isinstance(obj, ImportJob):
        return (ImportJob.objects.get(pk=obj.pk).status,)
    if isinstance(obj, ActivityReport):
        obj = ActivityReport.objects.get(pk=obj.pk)
        return (obj.status, obj.narrative, obj.obstacles, obj.review_note)
    if isinstance(obj, Program):
        obj = Program.objects.get(pk=obj.pk)
        return (obj.name, obj.code, obj.organization_id, obj.budget, obj.is_active, obj.target_households)
    if isinstance(obj, Intervention):
        obj = Intervention.objects.get(pk=obj.pk)
        return (obj.status, obj.cancel_reason, obj.value, obj.note)
    return ()


def counts() -> tuple[int, int, int, int]:
    return (
        Program.objects.count(),
        Intervention.objects.count(),
        ActivityReport.objects.count(),
        ImportJob.objects.count(),
    )


def program_form(program: Program, **changes: object) -> dict[str, Any]:
    """The portal's program form filled with ``program``'s own values (what a browser would send back)."""
    data: dict[str, Any] = {
        "organization": program.organization_id,
        "code": program.code,
        "name": program.name,
        "year": program.year,
        "cluster": program.cluster_id,
        "strategy": program.strategy_id,
        "assistance_kind": program.assistance_kind_id,
        "funding_source": program.funding_source,
        "budget": program.budget,
        "unit_value": program.unit_value or "",
        "target_households": program.target_households,
        "outside_region_policy": program.outside_region_policy,
        "max_desil": program.max_desil or "",
        "starts_on": program.starts_on.isoformat(),
        "ends_on": program.ends_on.isoformat(),
        "eligibility_note": program.eligibility_note,
        "description": program.description,
    }
    if program.once_per_year:
        data["once_per_year"] = "on"
    if program.is_active:
        data["is_active"] = "on"
    data.update(changes)
    return data


def request_data(world: World, page: ProgramPage, obj: Model | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "mark": WRITE_MARK,
        "today": dt.date.today().isoformat(),
        "households": {key: h.pk for key, h in world.households.items()},
        "program": obj.pk if isinstance(obj, Program) else 0,
    }
    data = {key: value.format(**values) for key, value in page.data}
    if page.name == "program-update-post":
        assert isinstance(obj, Program)
        return program_form(obj, **data)
    if page.name == "program-create-post":
        assert isinstance(obj, Organization)
        return program_form(world.programs[OWN_AGENCY], organization=obj.pk, description="", **data)
    return data


def forbidden_marks(actor: str) -> list[str]:
    """Marks that must not appear on any page the actor opens."""
    marks = [mark for key, mark in PROGRAM_MARK.items() if key not in visible_program_marks(actor)]
    marks += [mark for key, mark in REPORT_MARK.items() if key not in REPORTS_OPENED[actor]]
    marks += [mark for mark in (KENDAL_MARK, KUKAR_MARK) if mark not in REGION_MARKS_ALLOWED[actor]]
    return marks


def assert_no_leak(world: World, actor: str, body: str) -> None:
    for mark in forbidden_marks(actor):
        assert mark not in body, f"{mark} shown to {actor}"
    for target, household in world.households.items():
        if target not in HOUSEHOLDS_SEEN[actor]:
            assert household.head_name not in body, f"{actor} sees the {target} household by name"
    for secret in world.secret_identifiers:
        assert secret not in body, "a full NIK / No KK on a program page"


def text(response: Any) -> str:
    if getattr(response, "streaming", False):
        from django.http import HttpResponse

        response = HttpResponse(b"".join(response.streaming_content), content_type=response["Content-Type"])
    return body_text(response) if response.status_code == 200 else response.content.decode(errors="replace")


@pytest.mark.parametrize(("actor", "program_page", "target"), CASES)
def test_program_page(
    request: pytest.FixtureRequest,
    as_actor: Any,
    world: World,
    actor: str,
    program_page: ProgramPage,
    target: str | None,
) -> None:
    jobs = request.getfixturevalue("intervention_jobs") if program_page.target_kind == "job" else {}
    obj = target_object(world, program_page.target_kind, target, jobs)
    url_values: dict[str, Any] = {"households": {key: h.pk for key, h in world.households.items()}}
    if obj is not None and program_page.target_kind:
        url_values[program_page.target_kind] = obj.pk
    path = program_page.path(**url_values)
    data = request_data(world, program_page, obj)
    before = (state(obj), counts())

    client = as_actor(actor)
    response = client.post(path, data) if program_page.method == "POST" else client.get(path)

    expected = program_page.expect(actor, target)
    assert_status(response, expected)
    body = text(response)
    assert_no_leak(world, actor, body)
    if expected in REFUSED and target is not None and program_page.target_kind in ("program", "report", "job"):
        # Nothing of the refused row either (the actor's own row is never refused).
        mark = {"program": PROGRAM_MARK, "report": REPORT_MARK, "job": JOB_MARK}[program_page.target_kind][target]
        assert mark not in body
    if program_page.target_kind == "job":
        for key, mark in JOB_MARK.items():
            assert mark not in body or key == target, f"{actor} sees the {key} upload on the {target} one"
        # The page really shows this job (its program; the error report its row error).
        if expected == 200 and program_page.name == "job-detail":
            assert PROGRAM_MARK[target or ""] in body
        if expected == 200 and program_page.name == "job-errors":
            assert JOB_MARK[target or ""] in body
    changed = (state(obj), counts()) != before
    assert changed == program_page_changes(actor, program_page, target), (
        f"{actor} {'changed' if changed else 'did not change'} {program_page.target_kind} {target}"
    )
    if (
        expected == 302
        and program_page.method == "POST"
        and program_page.name.startswith(("program-", "intervention-"))
    ):
        assert response["Location"].startswith("/program/"), response["Location"]


# ------------------------------------------------------------------------------------------ activity reports


@pytest.mark.parametrize("actor", [a for a in ACTORS if board_reader(a)])
def test_board_lists_the_region_and_hides_drafts(as_actor: Any, world: World, actor: str) -> None:
    year = dt.date.today().year
    response = as_actor(actor).get("/laporan-kegiatan/papan/", {"periode": f"{year}-1"})

    assert response.status_code == 200
    board = response.context["board"]
    shown = {row.organization_id for row in board.rows} if board else set()
    region = {"secretariat": "3324", "leadership": "3324", "secretariat_kukar": "6402"}.get(actor)
    reporting = {
        world.organizations[key].pk
        for key in ("opd_officer", "partner", "partner_b", "partner_c", "other_agency", "kukar_opd", "kukar_partner")
        if world.organizations[key].region_id == region
    }
    assert shown == reporting  # the province secretariat's own region (33) has no reporting organization
    status = {row.organization_id: row.board_status for row in board.rows} if board else {}
    if region == "3324":
        assert status[world.organizations["opd_officer"].pk] == "submitted"
        assert status[world.organizations["partner"].pk] == "belum"  # a draft counts as not sent
    assert REPORT_MARK[PARTNER_PROGRAM] not in response.content.decode()

    export = as_actor(actor).get("/laporan-kegiatan/papan/unduh/", {"periode": f"{year}-1"})
    assert export.status_code == 200
    sheet = body_text(export)
    assert REPORT_MARK[PARTNER_PROGRAM] not in sheet  # partner A's draft text stays its own until sent
    assert (REPORT_MARK[OWN_AGENCY] in sheet) == (region == "3324")
    assert (REPORT_MARK[OTHER_AGENCY] in sheet) == (region == "3324")


@pytest.mark.parametrize("actor", ["secretariat", "leadership"])
def test_board_of_another_region_falls_back_to_the_own(as_actor: Any, actor: str) -> None:
    response = as_actor(actor).get("/laporan-kegiatan/papan/", {"region": "6402"})
    assert response.status_code == 200
    assert response.context["board"].region.code == "3324"
    assert KUKAR_MARK not in response.content.decode()


@pytest.mark.parametrize("actor", ["opd_officer", "partner"])
def test_start_refuses_another_organization(as_actor: Any, world: World, actor: str) -> None:
    """Starting a report for another agency (its id in the form) creates nothing; for the own one it works."""
    year = dt.date.today().year
    period = f"{year}-2" if dt.date.today().month > 6 else f"{year}-1"
    client = as_actor(actor)
    before = ActivityReport.objects.count()
    for other in ("other_agency", "partner_b", "kukar_opd"):
        response = client.post(
            "/laporan-kegiatan/mulai/", {"organization": world.organizations[other].pk, "period": period}
        )
        assert response.status_code == 302
    assert ActivityReport.objects.count() == before
    own = world.organizations[actor]
    response = client.post("/laporan-kegiatan/mulai/", {"organization": own.pk, "period": period})
    assert response.status_code == 302
    assert ActivityReport.objects.filter(organization=own).count() == 2


def test_partner_b_cannot_submit_partner_as_draft(as_actor: Any, world: World) -> None:
    """A partner submitting another partner's draft (by id) gets 404 and the draft stays a draft."""
    report = world.activity_reports[PARTNER_PROGRAM]
    response = as_actor("partner_b").post(
        f"/laporan-kegiatan/{report.pk}/ubah/", {"narrative": WRITE_MARK, "obstacles": "", "action": "submit"}
    )
    assert response.status_code == 404
    report.refresh_from_db()
    assert report.status == ActivityReportStatus.DRAFT and WRITE_MARK not in report.narrative


@pytest.mark.parametrize("actor", ["opd_officer", "partner", "leadership", "secretariat_province", "secretariat_kukar"])
def test_only_the_own_secretariat_accepts(as_actor: Any, world: World, actor: str) -> None:
    report = world.activity_reports[OWN_AGENCY]
    as_actor(actor).post(f"/laporan-kegiatan/{report.pk}/tinjau/", {"decision": "accept", "note": ""})
    report.refresh_from_db()
    assert report.status == ActivityReportStatus.SUBMITTED


@pytest.mark.parametrize("actor", ["secretariat", "secretariat_province", "leadership"])
def test_a_draft_stays_with_its_organization(as_actor: Any, world: World, actor: str) -> None:
    """The board and the export hide a draft's text ("a draft is the organization's own until it submits");
    the report's own page must not show it either, opened by id."""
    report = world.activity_reports[PARTNER_PROGRAM]
    response = as_actor(actor).get(f"/laporan-kegiatan/{report.pk}/")
    assert response.status_code in (200, 404)
    assert REPORT_MARK[PARTNER_PROGRAM] not in response.content.decode()


# ------------------------------------------------------------------------------------------ intervention uploads


@pytest.mark.parametrize(
    ("actor", "program_key", "expected"),
    [
        ("opd_officer", OWN_AGENCY, {IN_REGION, PARTNER_B_ALLOCATED}),  # every household of the desa
        ("partner", PARTNER_PROGRAM, {IN_REGION}),  # only its allocated one, not partner B's in the same desa
        ("partner_b", PARTNER_B_PROGRAM, {PARTNER_B_ALLOCATED}),
        ("secretariat", PARTNER_PROGRAM, {IN_REGION, PARTNER_B_ALLOCATED}),
        ("secretariat_kukar", KUKAR_AGENCY, {OUT_OF_REGION}),
    ],
)
def test_prefilled_template_lists_only_households_in_scope(
    as_actor: Any, world: World, actor: str, program_key: str, expected: set[str]
) -> None:
    """The pre-filled template names households: only those the actor may open, whatever desa it asks for."""
    program = world.programs[program_key]
    response = as_actor(actor).get(
        f"/program/impor/{program.pk}/templat.xlsx", {"desa": [KENDAL_DESA, KENDAL_OTHER_DESA, KUKAR_DESA]}
    )
    assert response.status_code == 200
    sheet = text(response)
    shown = {target for target, household in world.households.items() if household.head_name in sheet}
    if actor in ("opd_officer", "secretariat"):
        expected = expected | {UNALLOCATED}  # the other Kendal desa asked for too
    assert shown == expected


@pytest.mark.parametrize("actor", [a for a in ACTORS if a != "anonymous"])
def test_nav_links_follow_the_capabilities(as_actor: Any, actor: str) -> None:
    """A link shows exactly when the page behind it answers (matrix rows "program-list" and "reports-mine")."""
    body = as_actor(actor).get("/").content.decode()
    pages = {page.name: page for page in PROGRAM_PAGES}
    assert ('href="/program/"' in body) == (pages["program-list"].expect(actor, None) == 200)
    assert ('href="/laporan-kegiatan/"' in body) == (pages["reports-mine"].expect(actor, None) in (200, 302))


@pytest.mark.parametrize("actor", ["secretariat", "opd_officer", "partner"])
def test_registry_import_pages_do_not_open_intervention_uploads(
    as_actor: Any, intervention_jobs: dict[str, ImportJob], actor: str
) -> None:
    """An intervention upload is not a registry import: the registry's job pages answer 403 (no Cap.IMPORT) or
    404 (the secretariat: another kind of job), never the upload."""
    job = intervention_jobs[OWN_AGENCY]
    for suffix in ("", "progres/", "kesalahan.xlsx"):
        response = as_actor(actor).get(f"/registri/impor/{job.pk}/{suffix}")
        assert response.status_code == (404 if actor == "secretariat" else 403)
    response = as_actor(actor).post(f"/registri/impor/{job.pk}/konfirmasi/")
    assert response.status_code == (404 if actor == "secretariat" else 403)
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.UPLOADED


def test_review_page_of_a_report_whose_submitter_left(as_actor: Any, world: World) -> None:
    """A submitter's account may be deleted (submitted_by is SET_NULL): the review page must still open."""
    report = world.activity_reports[OWN_AGENCY]
    ActivityReport.objects.filter(pk=report.pk).update(submitted_by=None)
    response = as_actor("secretariat").get(f"/laporan-kegiatan/{report.pk}/tinjau/")
    assert response.status_code == 200


def test_interventions_are_untouched_by_report_pages(world: World) -> None:
    """Guard for the walk above: the world's deliveries are all delivered (a report refresh reads them)."""
    assert set(Intervention.objects.values_list("status", flat=True)) == {InterventionStatus.DELIVERED}
    assert {PROGRAM_OWNER[k] for k in world.activity_reports} <= set(world.organizations)
