"""Import pages × actor × job in/out of the actor's region (the rules in matrix.py: Cap.IMPORT, ImportJob.grant_q).

matrix.PAGES walks every import URL with a job id that does not exist (capability first, then 404); here each
job URL is walked with a real job on each side of the border, so a secretariat of another region gets 404
and every other role 403, whatever the job.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.http import HttpResponse

from households.models import ImportJob, ImportStatus, RowError
from tests.permissions.matrix import ACTORS, IMPORT_PAGES, LOGIN, Page, caps
from tests.permissions.test_pages import assert_status, body_text, request
from tests.permissions.world import KENDAL, KUKAR, World
from tkpk.models import Region
from tkpk.scoping import Cap

pytestmark = pytest.mark.django_db

JOB_SIDES = ("kendal", "kukar")
# In each job's snapshot label and row error (the world's region marks are also in the actors' own names).
JOB_MARK = {"kendal": "ImporKendal7731", "kukar": "ImporKukar7732"}
# Which side's jobs each actor may open (ImportJobQuerySet.grant_q: secretariat, by region code prefix).
JOBS_SEEN: dict[str, frozenset[str]] = {
    "secretariat": frozenset({"kendal"}),
    "secretariat_province": frozenset({"kendal"}),
    "secretariat_kukar": frozenset({"kukar"}),
}
# What an allowed actor gets from each job URL (an uploaded job: the preview; actions redirect back).
ALLOWED_STATUS = {"POST": 302, "GET": 200}
OBJECT_PAGES = [page for page in IMPORT_PAGES if page.missing_object]
CASES = [
    pytest.param(actor, import_page, side, id=f"{actor}-{side}-{import_page.name}")
    for import_page in OBJECT_PAGES
    for actor in ACTORS
    for side in JOB_SIDES
]


def expected(actor: str, import_page: Page, side: str) -> int | str:
    if actor == "anonymous":
        return LOGIN
    if Cap.IMPORT not in caps(actor):
        return 403
    return ALLOWED_STATUS[import_page.method] if side in JOBS_SEEN.get(actor, frozenset()) else 404


def text(response: Any) -> str:
    """The body as text; the error report (a streamed .xlsx) read cell by cell like test_pages.body_text."""
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
        response = HttpResponse(content, content_type=response["Content-Type"])
    return body_text(response) if response.status_code == 200 else response.content.decode(errors="replace")


@pytest.fixture
def import_jobs(world: World) -> dict[str, ImportJob]:
    made = {}
    for side, code, owner in (("kendal", KENDAL, "secretariat"), ("kukar", KUKAR, "secretariat_kukar")):
        mark = JOB_MARK[side]
        job = ImportJob.objects.create(
            source_id="p3ke",
            region=Region.objects.get(code=code),
            snapshot_label=f"P3KE {mark}",
            snapshot_date=dt.date(2024, 6, 30),
            created_by=world.user(owner),
            status=ImportStatus.UPLOADED,
            preview={"family": {"header_row": 1, "columns": [], "unmatched": [], "sample": [], "counts": {}}},
        )
        RowError.objects.create(
            job=job, file="family", row_number=2, column="Nama", value=mark, code="required", message=f"{mark} kosong"
        )
        made[side] = job
    return made


@pytest.mark.parametrize(("actor", "import_page", "side"), CASES)
def test_import_job_page(
    as_actor: Any, world: World, import_jobs: dict[str, ImportJob], actor: str, import_page: Page, side: str
) -> None:
    job = import_jobs[side]
    path = import_page.url.replace("/0/", f"/{job.pk}/")
    before = ImportJob.objects.get(pk=job.pk).status

    response = request(as_actor(actor), import_page.method, path)

    want = expected(actor, import_page, side)
    assert_status(response, want)
    body = text(response)
    other = "kukar" if side == "kendal" else "kendal"
    assert JOB_MARK[other] not in body
    if want in (403, 404, LOGIN):
        assert ImportJob.objects.get(pk=job.pk).status == before  # a refused action changed nothing
        assert JOB_MARK[side] not in body
    elif import_page.name in ("import-detail", "import-errors"):
        assert JOB_MARK[side] in body  # the page really shows this job
    for secret in world.secret_identifiers:
        assert secret not in body


@pytest.mark.parametrize("actor", ACTORS)
def test_the_history_lists_only_the_actors_region(as_actor: Any, import_jobs: dict[str, ImportJob], actor: str) -> None:
    response = as_actor(actor).get("/registri/impor/")

    if Cap.IMPORT not in caps(actor):
        assert response.status_code in (302, 403)
        return
    body = response.content.decode()
    seen = JOBS_SEEN[actor]
    for side, mark in JOB_MARK.items():
        assert (mark in body) == (side in seen)


@pytest.mark.parametrize("actor", ACTORS)
def test_the_nav_link_shows_only_with_the_import_capability(as_actor: Any, actor: str) -> None:
    response = as_actor(actor).get("/")
    if actor == "anonymous":
        assert response.status_code == 302
        return
    assert ('href="/registri/impor/"' in response.content.decode()) == (Cap.IMPORT in caps(actor))


def test_a_refused_upload_creates_no_job(as_actor: Any, world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    for actor in ("opd_officer", "partner", "leadership", "no_membership"):
        response = as_actor(actor).post(
            "/registri/impor/unggah/",
            {
                "source": "dtks",
                "single_file": SimpleUploadedFile("dtks.csv", b"IDDTKS;Nama\n1;A\n"),
                "snapshot_label": "x",
                "snapshot_date": "2024-06-30",
                "region": "3324",
            },
        )
        assert response.status_code == 403
    assert not ImportJob.objects.exists()
