"""CSR portal (issue 7) × actor × target: the secretariat's pages (/csr/), the partner portal (/mitra-csr/) and the
API (/api/v1/csr/), rules in matrix.py (CSR_PAGES, CSR_API), rows in world_csr.py.

Besides the status of each request: a refused write changes nothing and an allowed one happens (the CSR rows and
the target's state before and after); no response names another region's rows; a partner never reads another
company's proposal, letter or allocated household, nor any household outside its allocation; no response to a
partner (page, .xlsx, API JSON, agreement or letter PDF read as text) and no API answer holds a full NIK or No KK.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.db.models import Model
from django.http import HttpResponse
from django.utils import timezone
from pypdf import PdfReader

from csr.models import (
    Agreement,
    Allocation,
    AllocationStatus,
    CsrCycle,
    CycleReopen,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    ProposalTransition,
    Refusal,
    VerificationResult,
)
from households.models import ImportJob
from programs.models import Intervention, InterventionStatus, ProgramCluster, ProgramStrategy
from tests.factories import reference
from tests.permissions.matrix import (
    ACTORS,
    ANONYMOUS_API,
    API_FORMATS,
    CSR_ALLOCATIONS_SEEN,
    CSR_API,
    CSR_PAGES,
    CSR_PROPOSALS_SEEN,
    CSR_REFUSALS_SEEN,
    CSR_REOPEN_COMPANY,
    LOGIN,
    SECRETARIAT_REGION,
    CsrEndpoint,
    CsrPage,
)
from tests.permissions.test_gap_pages import text as sheet_text
from tests.permissions.test_pages import assert_status
from tests.permissions.world import (
    IN_REGION,
    KENDAL,
    KENDAL_MARK,
    KUKAR_MARK,
    PARTNER_B_ALLOCATED,
    PARTNER_PROGRAM,
    UNALLOCATED,
    World,
)
from tests.permissions.world_csr import (
    PROPOSAL_MARK,
    PROPOSAL_OWNER,
    REFUSAL_MARK,
    REFUSAL_OWNER,
    CsrWorld,
)
from tkpk.identifiers import mask_identifier
from tkpk.models import AccessAction, PersonalDataAccess

pytestmark = pytest.mark.django_db

PARTNERS = ("partner", "partner_b")
OWN_HOUSEHOLD = {"partner": IN_REGION, "partner_b": PARTNER_B_ALLOCATED}

# Known view bugs: a case listed here is expected to fail until its view is fixed (strict: a fixed bug must be
# dropped from the list). Empty: the bugs this matrix found (a timeline step whose user was deleted; the API's
# format-suffix routes of create/update/actions) are fixed.
KNOWN_BUGS: dict[str, str] = {}


def _case(*values: Any, id: str) -> Any:
    marks = [pytest.mark.xfail(reason=KNOWN_BUGS[id], strict=True)] if id in KNOWN_BUGS else []
    return pytest.param(*values, id=id, marks=marks)


PAGE_CASES = [
    _case(actor, page, target, id=f"{actor}-{target + '-' if target else ''}{page.name}")
    for page in CSR_PAGES
    for actor in ACTORS
    for target in page.targets
]
# The router's format-suffix routes (.json) answer as the plain ones: walked for one actor of each kind of answer.
SUFFIX_ACTORS = ("secretariat", "partner", "anonymous")
API_CASES = [
    _case(actor, endpoint, target, fmt, id=f"{actor}-{target + '-' if target else ''}{endpoint.name}{fmt}")
    for endpoint in CSR_API
    for fmt in API_FORMATS
    for actor in ACTORS
    for target in endpoint.targets
    if not fmt or actor in SUFFIX_ACTORS
]


@pytest.fixture
def csr(world: World) -> CsrWorld:
    assert isinstance(world.csr, CsrWorld)
    return world.csr


# ------------------------------------------------------------------------------------------------ helpers


def _values(world: World, csr: CsrWorld, actor: str, kind: str | None, target: str | None, mark: str) -> dict[str, Any]:
    """Placeholders of a CsrPage / CsrEndpoint URL and body for this actor and target."""
    now = timezone.localtime()
    today = now.date()
    need = csr.need
    cluster = reference(ProgramCluster, "klaster-1")
    strategy = reference(ProgramStrategy, "kurangi-beban")
    values: dict[str, Any] = {
        "mark": mark,
        "year": today.year,
        "today": today.isoformat(),
        "later": (today + dt.timedelta(days=60)).isoformat(),
        "soon": (now + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "need": need.pk,
        "need_code": need.code,
        "cluster": cluster.pk,
        "cluster_code": cluster.code,
        "strategy": strategy.pk,
        "strategy_code": strategy.code,
        "partner_b": world.organizations["partner_b"].pk,
        "cycle_kendal": csr.cycles["kendal"].pk,
        "unallocated": world.households[UNALLOCATED].pk,
        "household": world.households[OWN_HOUSEHOLD.get(actor, IN_REGION)].pk,
        "region": SECRETARIAT_REGION.get(actor, KENDAL),
    }
    if target is None:
        return values
    if kind == "cycle":
        values["cycle"] = csr.cycles[target].pk
    elif kind == "reopen":
        values["cycle"] = csr.cycles[target].pk
        values["organization"] = world.organizations[CSR_REOPEN_COMPANY[target]].pk
    elif kind == "proposal":
        row = csr.target(target)
        values.update(proposal=csr.proposals[target].pk, target=row.pk, household=row.household_id)
    elif kind == "refusal":
        values["refusal"] = csr.refusals[target].pk
    elif kind == "allocation":
        values["allocation"] = csr.allocations[target].pk
    elif kind == "organization":
        values["organization"] = world.organizations[target].pk
    return values


def _fill(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    filled = str(value).format(**values)
    return int(filled) if filled.isdigit() and str(value).startswith("{") and str(value) != "{today}" else filled


def _snapshot(csr: CsrWorld) -> Any:
    """Every CSR row count and the state of the world's CSR objects: what any write here would change."""
    return (
        CsrCycle.objects.count(),
        sorted(CsrCycle.objects.values_list("pk", "note", "status")),
        sorted(CycleReopen.objects.values_list("pk", "until", "note")),
        sorted(Allocation.objects.values_list("pk", "status", "organization_id")),
        sorted(Proposal.objects.values_list("pk", "status", "title")),
        sorted(ProposalTarget.objects.values_list("pk", "verification")),
        ProposalTransition.objects.count(),
        sorted(Agreement.objects.values_list("pk", "pdf")),
        sorted(Refusal.objects.values_list("pk", "acknowledged_at")),
        Intervention.objects.count(),
        ImportJob.objects.count(),
    )


def body_text(response: Any) -> str:
    """The body as text: an .xlsx cell by cell, a PDF through its text layer (a stand-in PDF of the admin
    world as bytes), anything else decoded."""
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
        response = HttpResponse(content, content_type=response["Content-Type"], status=response.status_code)
    if response.status_code == 200 and response.get("Content-Type", "") == "application/pdf":
        try:
            extracted = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(response.content)).pages)
        except Exception:
            return response.content.decode(errors="replace")
        # Table cells wrap: the text once with single spaces and once without any (a NIK split over two lines).
        return f"{' '.join(extracted.split())}\n{''.join(extracted.split())}"
    return sheet_text(response)


def _other_marks(world: World, actor: str) -> list[str]:
    """What ``actor`` must never read: the other region's marks; for a partner also other companies' proposals,
    letters and names, and households outside its allocation."""
    marks = [KENDAL_MARK] if actor == "secretariat_kukar" else [KUKAR_MARK]
    if actor in PARTNERS:
        own = world.organizations[actor]
        seen = CSR_PROPOSALS_SEEN[actor]
        marks += [m for key, m in PROPOSAL_MARK.items() if key not in seen and PROPOSAL_OWNER[key] != actor]
        marks += [m for key, m in REFUSAL_MARK.items() if key not in CSR_REFUSALS_SEEN[actor]]
        marks += [o.name for key, o in world.organizations.items() if key != actor and o.kind == own.kind]
        allocated = CSR_ALLOCATIONS_SEEN[actor]
        marks += [h.head_name for key, h in world.households.items() if key not in allocated]
    if actor == "leadership":  # compliance counts and summary figures only: no family, company or proposal by name
        marks += [h.head_name for h in world.households.values()]
        marks += [world.organizations[key].name for key in ("partner", "partner_b", "partner_c")]
        marks += list(PROPOSAL_MARK.values()) + list(REFUSAL_MARK.values())
    return marks


def _assert_clean(world: World, actor: str, body: str, where: str, *, identifiers: bool) -> None:
    if identifiers:
        for secret in world.secret_identifiers:
            assert secret not in body, f"a full NIK / No KK for {actor} on {where}"
    for mark in _other_marks(world, actor):
        at = body.find(mark)
        assert at < 0, f"{actor} reads {mark!r} on {where}: {' '.join(body[max(0, at - 150) : at + 60].split())}"


# --------------------------------------------------------------------------------------------------- pages


def _page_data(page: CsrPage, values: dict[str, Any], csr: CsrWorld, target: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {k.format(**values): v.format(**values) for k, v in page.data}
    if page.name == "csr-cycle-new-post":
        data["region"] = values["region"]
    if page.name == "csr-cycle-edit-post" and target is not None:
        cycle = csr.cycles[target]
        data.update(
            year=cycle.year,
            name=cycle.name,
            proposal_deadline=timezone.localtime(cycle.proposal_deadline).strftime("%Y-%m-%dT%H:%M"),
            verification_starts=cycle.verification_starts.isoformat(),
            verification_ends=cycle.verification_ends.isoformat(),
            realisation_deadline=cycle.realisation_deadline.isoformat(),
            status=cycle.status,
            required_sectors=list(cycle.required_sectors),
        )
    return data


def _prepare(page_or_endpoint: CsrPage | CsrEndpoint, world: World, csr: CsrWorld, target: str | None) -> None:
    """The agree rows act on partner B's proposal once it is verified (its target found eligible); the delivery
    rows once the world's delivery of A's program to the household is cancelled (else a new one is a duplicate)."""
    if "delivery" in page_or_endpoint.name and page_or_endpoint.method == "POST":
        Intervention.objects.filter(pk=world.interventions[f"{PARTNER_PROGRAM}/{IN_REGION}"].pk).update(
            status=InterventionStatus.CANCELLED, cancel_reason="Salah catat"
        )
    if page_or_endpoint.name.endswith("-agree") and target is not None:
        proposal = csr.proposals[target]
        if proposal.status == ProposalStatus.SUBMITTED:
            proposal.targets.update(verification=VerificationResult.ELIGIBLE)
            Proposal.objects.filter(pk=proposal.pk).update(status=ProposalStatus.VERIFIED)


@pytest.mark.parametrize(("actor", "csr_page", "target"), PAGE_CASES)
def test_csr_page(
    as_actor: Any, world: World, csr: CsrWorld, actor: str, csr_page: CsrPage, target: str | None
) -> None:
    mark = f"Tanda{actor.replace('_', '')}{csr_page.name.replace('-', '')}"
    values = _values(world, csr, actor, csr_page.target_kind, target, mark)
    path = csr_page.path(**values)
    _prepare(csr_page, world, csr, target)
    before = _snapshot(csr)
    logs_before = set(PersonalDataAccess.objects.values_list("pk", flat=True))

    client = as_actor(actor)
    data = _page_data(csr_page, values, csr, target)
    response = client.post(path, data) if csr_page.method == "POST" else client.get(path)

    expected = csr_page.expect(actor, target)
    if expected == LOGIN:
        assert_status(response, LOGIN)
    else:
        assert response.status_code == expected, (path, response.status_code, response.get("Location"))
    body = body_text(response)
    _assert_clean(world, actor, body, path, identifiers=actor in PARTNERS or "pdf" in csr_page.name)

    after = _snapshot(csr)
    writes = csr_page.writes is not None and csr_page.writes(actor, target) and expected not in (403, 404, LOGIN)
    if csr_page.method == "POST" and writes:
        assert after != before, f"{actor}: {csr_page.name} answered {expected} but changed nothing"
    else:
        assert after == before, f"{actor}: {csr_page.name} ({expected}) changed the CSR rows"
    if csr_page.method == "POST" and expected in (403, 404, LOGIN):
        assert mark not in json.dumps(after, default=str)
    # By-name reads are logged; a partner's log names only households of its own allocation.
    logs = PersonalDataAccess.objects.exclude(pk__in=logs_before)
    if expected != 200:
        assert not logs.exists(), f"{actor}: a refused {path} was logged as a by-name read"
    if actor in PARTNERS:
        allowed = {world.households[t].pk for t in CSR_ALLOCATIONS_SEEN[actor]}
        for log in logs.exclude(object_type__icontains="refusal"):
            assert set(log.object_ids) <= allowed, (path, log.object_type, log.object_ids)
    if expected == 200 and actor in PARTNERS and csr_page.name in ("portal-allocation-xlsx", "portal-agreement-pdf"):
        assert logs.filter(user=world.user(actor), action=AccessAction.EXPORT).exists()


# ----------------------------------------------------------------------------------------------------- API


@pytest.mark.parametrize(("actor", "endpoint", "target", "fmt"), API_CASES)
def test_csr_api(
    as_actor: Any, world: World, csr: CsrWorld, actor: str, endpoint: CsrEndpoint, target: str | None, fmt: str
) -> None:
    mark = f"Api{actor.replace('_', '')}{endpoint.name.replace('-', '')}"
    values = _values(world, csr, actor, endpoint.target_kind, target, mark)
    path = endpoint.path(fmt, **values)
    _prepare(endpoint, world, csr, target)
    before = _snapshot(csr)

    client = as_actor(actor)
    if endpoint.method == "GET":
        response = client.get(path)
    else:
        body = {key: _fill(value, values) for key, value in endpoint.data}
        send = client.post if endpoint.method == "POST" else client.patch
        response = send(path, json.dumps(body), content_type="application/json")

    expected: int | frozenset[int] = ANONYMOUS_API if actor == "anonymous" else endpoint.expect(actor, target)
    if isinstance(expected, frozenset):
        assert response.status_code in expected
    else:
        assert response.status_code == expected, (path, response.status_code, body_text(response)[:400])
    text = body_text(response)
    _assert_clean(world, actor, text, path, identifiers=True)
    if response.status_code in (401, 403, 404):
        assert KENDAL_MARK not in text and KUKAR_MARK not in text

    after = _snapshot(csr)
    writes = endpoint.writes is not None and endpoint.writes(actor, target) and response.status_code < 400
    if endpoint.method != "GET" and writes:
        assert after != before, f"{actor}: {endpoint.name} answered {response.status_code} but changed nothing"
    else:
        assert after == before, f"{actor}: {endpoint.name} ({response.status_code}) changed the CSR rows"

    if response.status_code == 200 and endpoint.method == "GET" and endpoint.name == "csr-api-allocations":
        # The current cycle's BNBA list: exactly the allocated households the actor may read.
        names = {row["head_name"] for row in response.json()["results"]}
        assert names == {world.households[t].head_name for t in CSR_ALLOCATIONS_SEEN[actor]}


def test_partner_files_hold_no_full_nik(as_actor: Any, world: World, csr: CsrWorld) -> None:
    """The files a partner downloads, read as text: its BNBA sheet, its agreement (target list) and its letter name
    its own household with the NIK masked, never in full."""
    client = as_actor("partner")
    head = world.heads[IN_REGION]
    sheet = body_text(client.get("/mitra-csr/alokasi.xlsx"))
    agreement = body_text(client.get(f"/mitra-csr/usulan/{csr.proposals['a-agreed'].pk}/pks.pdf"))
    api_agreement = body_text(client.get(f"/api/v1/csr/proposals/{csr.proposals['a-agreed'].pk}/agreement/"))
    assert head.nik is not None
    masked = mask_identifier(head.nik)
    for text in (sheet, agreement, api_agreement):
        assert world.households[IN_REGION].head_name in text
        assert head.nik not in text
        assert masked in text
    letter = body_text(as_actor("secretariat").get(f"/csr/penolakan/{csr.refusals['c'].pk}/surat.pdf"))
    assert REFUSAL_MARK["c"] in letter
    assert REFUSAL_OWNER["c"] == "partner_c"


def test_every_csr_proposal_and_letter_is_a_target(world: World, csr: CsrWorld) -> None:
    """The matrix walks every proposal and letter of the world (a new one would need a target of its own)."""
    from tests.permissions.world_csr import PROPOSAL_TARGETS, REFUSAL_TARGETS

    walked = {csr.proposals[t].pk for t in PROPOSAL_TARGETS}
    others = set(Proposal.objects.exclude(pk__in=walked).values_list("organization__name", "title"))
    # world._csr's agreed proposal of partner A (admin matrix) is the one Kendal proposal not walked here.
    assert len(others) <= 1, others
    assert {r.pk for r in Refusal.objects.all()} == {csr.refusals[t].pk for t in REFUSAL_TARGETS}
    assert all(a.status == AllocationStatus.ACTIVE for a in csr.allocations.values())
    assert isinstance(csr.allocations[IN_REGION], Model)
