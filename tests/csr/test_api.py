"""CSR API (/api/v1/csr/): every action allowed and refused (wrong role 403, wrong state 400 with an Indonesian
message, after the deadline 400 ``deadline_passed``), company A never sees company B's rows (404 / absent from
lists), no full NIK or No KK in any response (every response of every client is scanned, PDFs included), and
the schema lists the workflow actions."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from csr import services
from csr.models import (
    Allocation,
    AllocationStatus,
    CsrCycle,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    Refusal,
    VerificationResult,
)
from households.choices import Relationship
from households.models import Household, Person
from programs.models import AssistanceKind, EntryChannel, Intervention
from tests import factories as f
from tkpk.identifiers import mask_identifier
from tkpk.models import AccessAction, PersonalDataAccess, Region
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

API = "/api/v1/csr"
CYCLES = f"{API}/cycles/"
ALLOCATIONS = f"{API}/allocations/"
PROPOSALS = f"{API}/proposals/"
REFUSALS = f"{API}/refusals/"
TODAY = dt.date.today()


# ------------------------------------------------------------------------------------------------ world


@dataclass
class World:
    secretariat: Any
    company_a: Any
    company_b: Any
    officer: Any
    cycle: CsrCycle
    kind: AssistanceKind
    households_a: list[Household]
    households_b: list[Household]
    secrets: list[str] = field(default_factory=list)

    def add_household(self, **kw: Any) -> Household:
        household = f.HouseholdFactory(**kw)
        head = f.PersonFactory(household=household, relationship=Relationship.HEAD)
        member = f.PersonFactory(household=household)
        self.secrets += [head.nik, member.nik, household.no_kk]
        return household


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "") for page in reader.pages).split())


class CheckedClient(APIClient):
    """An API client that fails the test when any response (JSON or PDF) carries a full NIK or No KK."""

    def __init__(self, world: World, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.world = world
        self.scanned = 0

    def request(self, **kwargs: Any) -> Any:
        response = super().request(**kwargs)
        if response.streaming:
            content = b"".join(response.streaming_content)
            response.streaming_content = [content]
            text = pdf_text(content) if content.startswith(b"%PDF") else content.decode()
        else:
            text = response.content.decode()
        for secret in self.world.secrets:
            assert secret not in text, f"a full NIK/No KK in {kwargs.get('PATH_INFO')}"
        self.scanned += 1
        return response


@pytest.fixture
def world() -> World:
    secretariat = f.user_with_role(Role.SECRETARIAT)
    company_a = f.user_with_role(Role.PARTNER)
    company_b = f.user_with_role(Role.PARTNER)
    w = World(
        secretariat=secretariat,
        company_a=company_a,
        company_b=company_b,
        officer=f.user_with_role(Role.OPD_OFFICER),
        cycle=f.CsrCycleFactory(),
        kind=f.reference(AssistanceKind, "pangan"),
        households_a=[],
        households_b=[],
    )
    w.households_a = [w.add_household() for _ in range(3)]
    w.households_b = [w.add_household() for _ in range(2)]
    for user, households in ((company_a, w.households_a), (company_b, w.households_b)):
        services.allocations_create(
            actor=secretariat,
            cycle=w.cycle,
            organization=user.test_organization,
            assistance_kind=w.kind,
            household_ids=[h.pk for h in households],
        )
    return w


@pytest.fixture
def as_user(world: World) -> Any:
    def make(user: Any) -> CheckedClient:
        client = CheckedClient(world)
        client.force_login(user)
        return client

    return make


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert set(body) == {"message", "code", "extra"}
    return body


def proposal_payload(world: World, households: list[Household], **kw: Any) -> dict[str, Any]:
    f.reference(f.ProgramCluster, "klaster-1")
    f.reference(f.ProgramStrategy, "kurangi-beban")
    payload = {
        "cycle": world.cycle.pk,
        "title": "Bedah Rumah Desa Blumah",
        "assistance_kind": "pangan",
        "cluster": "klaster-1",
        "strategy": "kurangi-beban",
        "budget": "75000000",
        "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + dt.timedelta(days=60)).isoformat(),
        "contact_name": "Siti Aminah",
        "household_ids": [h.pk for h in households],
    }
    return {**payload, **kw}


def make_proposal(world: World, status: str = ProposalStatus.DRAFT) -> Proposal:
    """A proposal of company A with all its allocated households, moved to ``status`` through the services."""
    a, sec = world.company_a, world.secretariat
    proposal = f.ProposalFactory(organization=a.test_organization, cycle=world.cycle)
    services.proposal_update(actor=a, proposal=proposal, household_ids=[h.pk for h in world.households_a])
    steps: list[tuple[Any, str, dict[str, Any]]] = []
    if status in (ProposalStatus.SUBMITTED, ProposalStatus.VERIFIED, ProposalStatus.AGREED):
        steps.append((a, "submit", {}))
    if status == ProposalStatus.WITHDRAWN:
        steps.append((a, "withdraw", {}))
    for actor, step, details in steps:
        services.proposal_transition(actor=actor, proposal=proposal, action=step, **details)
    if status in (ProposalStatus.VERIFIED, ProposalStatus.AGREED):
        for target in proposal.targets.all():
            services.target_verify(actor=sec, target=target, result=VerificationResult.ELIGIBLE)
        services.proposal_transition(actor=sec, proposal=proposal, action="verify")
    if status == ProposalStatus.AGREED:
        services.proposal_transition(
            actor=sec,
            proposal=proposal,
            action="agree",
            number=f"PKS/{proposal.pk}/{TODAY.year}",
            signed_on=TODAY,
            government_signatory="Kepala Bappeda",
            company_signatory="Direktur",
        )
    proposal.refresh_from_db()
    assert proposal.status == status
    return proposal


def agree_payload(number: str = "PKS/API/001") -> dict[str, Any]:
    return {
        "number": number,
        "signed_on": TODAY.isoformat(),
        "place": "Kendal",
        "government_signatory": "Kepala Bappeda Kendal",
        "company_signatory": "Direktur PT Mitra",
    }


# ----------------------------------------------------------------------------------------------- access


def test_roles_without_csr_capability_are_refused(world: World, as_user: Any) -> None:
    officer = as_user(world.officer)
    for path in (CYCLES, ALLOCATIONS, PROPOSALS, REFUSALS):
        response = officer.get(path)
        assert response.status_code == 403
        assert "portal CSR" in response.json()["detail"]
    assert APIClient().get(CYCLES).status_code in (401, 403)


# ------------------------------------------------------------------------------------------------ cycles


def test_cycles_list_shows_the_partner_its_deadline(world: World, as_user: Any) -> None:
    response = as_user(world.company_a).get(CYCLES)
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == world.cycle.pk
    assert row["days_left"] == 14 and row["submission_open"] is True
    assert row["required_sectors"] == ["plantation", "mining"]
    secretariat_row = as_user(world.secretariat).get(f"{CYCLES}{world.cycle.pk}/").json()
    assert secretariat_row["submission_open"] is None


def test_secretariat_creates_and_updates_a_cycle(world: World, as_user: Any) -> None:
    client = as_user(world.secretariat)
    deadline = timezone.now() + dt.timedelta(days=30)
    payload = {
        "year": TODAY.year + 1,
        "name": "Musrenbang CSR berikutnya",
        "proposal_deadline": deadline.isoformat(),
        "verification_starts": (TODAY + dt.timedelta(days=31)).isoformat(),
        "verification_ends": (TODAY + dt.timedelta(days=40)).isoformat(),
        "realisation_deadline": (TODAY + dt.timedelta(days=200)).isoformat(),
        "required_sectors": ["mining"],
    }
    response = client.post(CYCLES, payload, format="json")
    assert response.status_code == 201, response.content
    cycle = CsrCycle.objects.get(pk=response.json()["id"])
    assert cycle.region_id == "3324" and cycle.required_sectors == ["mining"] and cycle.created_by == world.secretariat

    response = client.patch(f"{CYCLES}{cycle.pk}/", {"status": "closed"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"

    bad = client.patch(
        f"{CYCLES}{cycle.pk}/", {"verification_ends": (TODAY + dt.timedelta(days=1)).isoformat()}, format="json"
    )
    refused(bad, 400, "invalid")
    refused(client.patch(f"{CYCLES}{cycle.pk}/", {"region": "33.24"}, format="json"), 400, "region_fixed")


def test_partner_may_not_create_or_change_cycles(world: World, as_user: Any) -> None:
    client = as_user(world.company_a)
    response = client.post(CYCLES, {"year": TODAY.year, "name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Hanya sekretariat TKPK yang dapat melakukan tindakan ini."
    assert client.patch(f"{CYCLES}{world.cycle.pk}/", {"status": "closed"}, format="json").status_code == 403
    world.cycle.refresh_from_db()
    assert world.cycle.status == "open"


def test_cycle_of_another_region_is_404(world: World, as_user: Any) -> None:
    other = f.CsrCycleFactory(region=f.region("6402"))
    assert as_user(world.secretariat).get(f"{CYCLES}{other.pk}/").status_code == 404
    assert as_user(world.company_a).get(f"{CYCLES}{other.pk}/").status_code == 404


# -------------------------------------------------------------------------------------------- allocation


def test_each_company_lists_only_its_allocation_with_masked_nik(world: World, as_user: Any) -> None:
    response = as_user(world.company_a).get(ALLOCATIONS)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {r["household"] for r in rows} == {h.pk for h in world.households_a}
    head = Person.objects.get(household=world.households_a[0], relationship=Relationship.HEAD)
    row = next(r for r in rows if r["household"] == world.households_a[0].pk)
    assert row["nik_masked"] == mask_identifier(head.nik) and "*" in row["nik_masked"]
    assert row["head_name"] == world.households_a[0].head_name
    assert row["desa"] == "3324012001" and row["desa_name"] and row["need"] == "pangan"
    assert "nik" not in row and "no_kk" not in row

    rows_b = as_user(world.company_b).get(ALLOCATIONS).json()["results"]
    assert {r["household"] for r in rows_b} == {h.pk for h in world.households_b}
    a_allocation = Allocation.objects.filter(organization=world.company_a.test_organization).first()
    assert as_user(world.company_b).get(f"{ALLOCATIONS}{a_allocation.pk}/").status_code == 404
    # Asking for A's rows by organization id gives B nothing of A.
    filtered = as_user(world.company_b).get(ALLOCATIONS, {"organization": world.company_a.test_organization.pk})
    assert filtered.json()["results"] == []


def test_allocation_list_is_logged_filtered_and_cursor_paged(
    world: World, as_user: Any, django_assert_max_num_queries: Any
) -> None:
    client = as_user(world.secretariat)
    client.get(ALLOCATIONS)  # session and scope warm-up
    PersonalDataAccess.objects.all().delete()
    with django_assert_max_num_queries(12):
        response = client.get(ALLOCATIONS, {"cycle": world.cycle.pk, "page_size": 2})
    body = response.json()
    assert len(body["results"]) == 2 and "cursor=" in body["next"] and "count" not in body
    log = PersonalDataAccess.objects.get()
    assert log.action == AccessAction.VIEW_HOUSEHOLD and log.object_type == "csr_allocation"
    assert sorted(log.object_ids) == sorted(r["household"] for r in body["results"])
    assert log.user == world.secretariat and log.region_code == "3324"

    orgs = client.get(ALLOCATIONS, {"organization": world.company_b.test_organization.pk}).json()["results"]
    assert {r["household"] for r in orgs} == {h.pk for h in world.households_b}
    assert client.get(ALLOCATIONS, {"desa": "33.24.01.2001"}).json()["results"]
    assert client.get(ALLOCATIONS, {"desa": "33.24.02"}).json()["results"] == []
    assert client.get(ALLOCATIONS, {"status": "released"}).json()["results"] == []
    refused(client.get(ALLOCATIONS, {"status": "gone"}), 400, "invalid_filter")
    refused(client.get(ALLOCATIONS, {"cycle": "abc"}), 400, "invalid_filter")


def test_secretariat_allocates_in_bulk_and_double_allocation_needs_a_reason(world: World, as_user: Any) -> None:
    client = as_user(world.secretariat)
    new = world.add_household()
    taken = world.households_b[0]
    payload = {
        "cycle": world.cycle.pk,
        "organization": world.company_a.test_organization.pk,
        "assistance_kind": "pangan",
        "household_ids": [new.pk, taken.pk, world.households_a[0].pk, 999_999_999],
    }
    response = client.post(ALLOCATIONS, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["created"], body["taken_by_other"], body["already_allocated_here"], body["not_found"]) == (
        1,
        1,
        1,
        1,
    )
    assert body["skipped"] == 3 and len(body["allocation_ids"]) == 1

    again = client.post(ALLOCATIONS, {**payload, "household_ids": [taken.pk]}, format="json")
    assert again.status_code == 200 and again.json()["created"] == 0

    override = client.post(
        ALLOCATIONS, {**payload, "household_ids": [taken.pk], "override_reason": "Dua kebutuhan pangan"}, format="json"
    )
    assert override.status_code == 201 and override.json()["created"] == 1
    allocation = Allocation.objects.get(pk=override.json()["allocation_ids"][0])
    assert allocation.override_reason == "Dua kebutuhan pangan"


def test_partner_may_not_allocate_or_release(world: World, as_user: Any) -> None:
    client = as_user(world.company_a)
    payload = {
        "cycle": world.cycle.pk,
        "organization": world.company_a.test_organization.pk,
        "assistance_kind": "pangan",
        "household_ids": [world.households_b[0].pk],
    }
    assert client.post(ALLOCATIONS, payload, format="json").status_code == 403
    own = Allocation.objects.filter(organization=world.company_a.test_organization).first()
    assert client.post(f"{ALLOCATIONS}{own.pk}/release/", {"reason": "x"}, format="json").status_code == 403
    own.refresh_from_db()
    assert own.status == AllocationStatus.ACTIVE


def test_secretariat_releases_an_allocation_with_a_reason(world: World, as_user: Any) -> None:
    client = as_user(world.secretariat)
    allocation = Allocation.objects.filter(organization=world.company_a.test_organization).first()
    body = refused(
        client.post(f"{ALLOCATIONS}{allocation.pk}/release/", {"reason": " "}, format="json"), 400, "reason_required"
    )
    assert body["message"] == "Tuliskan alasan pengembalian."
    response = client.post(f"{ALLOCATIONS}{allocation.pk}/release/", {"reason": "Pindah domisili"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "released" and response.json()["released_reason"] == "Pindah domisili"
    assert response.json()["nik_masked"].count("*") > 0
    released = client.get(ALLOCATIONS, {"status": "released"}).json()["results"]
    assert [r["id"] for r in released] == [allocation.pk]


def test_allocation_to_a_company_of_another_region_is_refused(world: World, as_user: Any) -> None:
    outsider = f.OrganizationFactory(company=True, region=f.region("6402"))
    payload = {
        "cycle": world.cycle.pk,
        "organization": outsider.pk,
        "assistance_kind": "pangan",
        "household_ids": [world.households_a[0].pk],
    }
    body = refused(as_user(world.secretariat).post(ALLOCATIONS, payload, format="json"), 400, "organization_not_found")
    assert body["message"] == "Mitra tidak ditemukan di wilayah Anda."


# ---------------------------------------------------------------------------------------------- proposals


def test_partner_creates_a_draft_proposal_with_allocated_and_additional_targets(world: World, as_user: Any) -> None:
    client = as_user(world.company_a)
    additional = [
        {"reason": "Lansia tunggal", "name": "Mbah Karto", "address": "Dusun Krajan", "desa": "33.24.01.2001"}
    ]
    response = client.post(
        PROPOSALS, proposal_payload(world, world.households_a[:2], additional=additional), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["target_count"] == 3
    assert body["organization"] == world.company_a.test_organization.pk
    assert set(body["available_actions"]) == {"submit", "withdraw"}
    assert [t["action"] for t in body["transitions"]] == ["create"]
    proposal = Proposal.objects.get(pk=body["id"])
    extra = proposal.targets.get(is_additional=True)
    assert extra.proposed_name == "Mbah Karto" and extra.proposed_desa_id == "3324012001"


def test_proposal_refuses_targets_outside_the_allocation(world: World, as_user: Any) -> None:
    response = as_user(world.company_a).post(PROPOSALS, proposal_payload(world, [world.households_b[0]]), format="json")
    body = refused(response, 400, "target_not_allocated")
    assert "bukan sasaran alokasi Anda" in body["message"]
    assert not Proposal.objects.exists()


def test_proposal_for_another_company_or_by_the_secretariat_is_refused(world: World, as_user: Any) -> None:
    payload = proposal_payload(world, world.households_a[:1], organization=world.company_b.test_organization.pk)
    refused(as_user(world.company_a).post(PROPOSALS, payload, format="json"), 403, "forbidden")
    response = as_user(world.secretariat).post(PROPOSALS, proposal_payload(world, []), format="json")
    assert response.status_code == 403
    assert "pengguna mitra" in response.json()["detail"]
    assert not Proposal.objects.exists()


def test_partner_updates_its_draft_but_not_a_submitted_proposal(world: World, as_user: Any) -> None:
    proposal = make_proposal(world)
    client = as_user(world.company_a)
    url = f"{PROPOSALS}{proposal.pk}/"
    response = client.patch(url, {"title": "Judul baru", "household_ids": [world.households_a[0].pk]}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "Judul baru" and response.json()["target_count"] == 1
    refused(client.patch(url, {"cycle": f.CsrCycleFactory().pk}, format="json"), 400, "fixed_fields")
    assert as_user(world.secretariat).patch(url, {"title": "x"}, format="json").status_code == 403

    services.proposal_transition(actor=world.company_a, proposal=proposal, action="submit")
    body = refused(client.patch(url, {"title": "Terlambat"}, format="json"), 400, "not_editable")
    assert body["message"] == "Usulan berstatus Diajukan tidak dapat diubah."


def test_company_b_never_sees_company_a_proposal_agreement_or_targets(world: World, as_user: Any) -> None:
    proposal = make_proposal(world, ProposalStatus.AGREED)
    b = as_user(world.company_b)
    assert b.get(PROPOSALS).json()["results"] == []
    for suffix in ("", "targets/", "agreement/", "deliveries/", "overlaps/"):
        response = b.get(f"{PROPOSALS}{proposal.pk}/{suffix}")
        assert response.status_code in (403, 404), suffix
        assert response.status_code == 404 or suffix == "overlaps/"
    for step in ("submit", "withdraw", "implement", "report"):
        assert b.post(f"{PROPOSALS}{proposal.pk}/{step}/", {}, format="json").status_code == 404
    target = proposal.targets.first()
    assert (
        b.post(
            f"{PROPOSALS}{proposal.pk}/deliveries/",
            {"household": target.household_id, "delivered_on": TODAY.isoformat()},
            format="json",
        ).status_code
        == 404
    )
    a_rows = as_user(world.company_a).get(PROPOSALS).json()["results"]
    assert [r["id"] for r in a_rows] == [proposal.pk]


def test_the_whole_workflow_through_the_api(world: World, as_user: Any) -> None:
    a, sec = as_user(world.company_a), as_user(world.secretariat)
    created = a.post(PROPOSALS, proposal_payload(world, world.households_a), format="json").json()
    url = f"{PROPOSALS}{created['id']}/"

    submitted = a.post(f"{url}submit/", {"note": "Mohon diperiksa"}, format="json")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert a.get(url).json()["available_actions"] == ["withdraw"]
    assert set(sec.get(url).json()["available_actions"]) == {"return", "verify"}

    targets = sec.get(f"{url}targets/").json()
    assert len(targets) == 3 and all(t["verification"] == "pending" for t in targets)
    assert all(t["nik_masked"] and "*" in t["nik_masked"] for t in targets)
    body = refused(sec.post(f"{url}verify/", {}, format="json"), 400, "verification_pending")
    assert body["message"] == "Masih ada 3 sasaran yang belum diverifikasi di lapangan."

    first, second, third = targets
    assert a.post(f"{url}targets/{first['id']}/verify/", {"result": "eligible"}, format="json").status_code == 403
    ok = sec.post(f"{url}targets/{first['id']}/verify/", {"result": "eligible"}, format="json")
    assert ok.status_code == 200 and ok.json()["verification"] == "eligible"
    sec.post(f"{url}targets/{second['id']}/verify/", {"result": "eligible"}, format="json")
    refused(sec.post(f"{url}targets/{third['id']}/verify/", {"result": "other"}, format="json"), 400, "note_required")
    moved = sec.post(f"{url}targets/{third['id']}/verify/", {"result": "moved", "note": "ke Batang"}, format="json")
    assert moved.json()["verification"] == "moved"
    assert (
        Allocation.objects.get(household_id=third["household"], organization=world.company_a.test_organization).status
        == "released"
    )
    assert sec.post(f"{url}targets/999999/verify/", {"result": "eligible"}, format="json").status_code == 404

    verified = sec.post(f"{url}verify/", {}, format="json")
    assert verified.status_code == 200 and verified.json()["status"] == "verified"
    early = {"household": first["household"], "delivered_on": TODAY.isoformat()}
    body = refused(a.post(f"{url}deliveries/", early, format="json"), 400, "invalid_state")
    assert body["message"] == "Penyaluran hanya dapat dilaporkan untuk usulan yang sudah disepakati."
    assert sec.get(f"{url}deliveries/").json()["results"] == []

    incomplete = refused(sec.post(f"{url}agree/", {"number": "PKS/1"}, format="json"), 400, "agreement_incomplete")
    assert "Lengkapi data PKS" in incomplete["message"]
    assert a.post(f"{url}agree/", agree_payload(), format="json").status_code == 403
    agreed = sec.post(f"{url}agree/", agree_payload(), format="json")
    assert agreed.status_code == 200, agreed.content
    assert agreed.json()["status"] == "agreed" and agreed.json()["agreement"]["number"] == "PKS/API/001"
    assert agreed.json()["agreement"]["has_pdf"] is True

    PersonalDataAccess.objects.all().delete()
    pdf = a.get(f"{url}agreement/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdf_text(b"".join(pdf.streaming_content))
    assert world.households_a[0].head_name in text and world.households_a[2].head_name not in text
    log = PersonalDataAccess.objects.get()
    assert log.action == AccessAction.EXPORT and log.object_type == "csr_agreement"
    assert sorted(log.object_ids) == sorted([first["household"], second["household"]])

    delivery = {"household": first["household"], "delivered_on": TODAY.isoformat(), "value": "500000"}
    assert sec.post(f"{url}deliveries/", delivery, format="json").status_code == 403
    not_target = a.post(f"{url}deliveries/", {**delivery, "household": third["household"]}, format="json")
    refused(not_target, 400, "not_eligible_target")
    refused(a.post(f"{url}implement/", {}, format="json"), 400, "no_deliveries")
    logged = a.post(f"{url}deliveries/", delivery, format="json")
    assert logged.status_code == 201, logged.content
    intervention = Intervention.objects.get(pk=logged.json()["id"])
    assert intervention.channel == EntryChannel.API and intervention.household_id == first["household"]
    listed = sec.get(f"{url}deliveries/").json()["results"]
    assert [r["id"] for r in listed] == [intervention.pk]

    assert sec.post(f"{url}implement/", {}, format="json").status_code == 403
    implemented = a.post(f"{url}implement/", {}, format="json")
    assert implemented.json()["status"] == "implemented"
    refused(a.post(f"{url}report/", {}, format="json"), 400, "report_required")
    reported = a.post(f"{url}report/", {"final_report": "Bantuan pangan tersalurkan ke 1 keluarga."}, format="json")
    assert reported.status_code == 200 and reported.json()["status"] == "reported"
    assert reported.json()["available_actions"] == []
    assert [t["to_status"] for t in reported.json()["transitions"]] == [
        "draft",
        "submitted",
        "verified",
        "agreed",
        "implemented",
        "reported",
    ]
    assert a.scanned > 10 and sec.scanned > 10


def test_return_for_revision_and_withdraw(world: World, as_user: Any) -> None:
    proposal = make_proposal(world, ProposalStatus.SUBMITTED)
    a, sec = as_user(world.company_a), as_user(world.secretariat)
    url = f"{PROPOSALS}{proposal.pk}/"
    body = refused(sec.post(f"{url}return/", {"note": ""}, format="json"), 400, "note_required")
    assert body["message"] == "Tuliskan catatan perbaikan untuk mitra."
    returned = sec.post(f"{url}return/", {"note": "Lengkapi jadwal"}, format="json")
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    assert returned.json()["status_note"] == "Lengkapi jadwal"
    assert a.patch(url, {"contact_phone": "08123"}, format="json").status_code == 200
    a.post(f"{url}submit/", {}, format="json")
    refused(a.post(f"{url}withdraw/", {}, format="json"), 400, "note_required")
    withdrawn = a.post(f"{url}withdraw/", {"note": "Anggaran dialihkan"}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_submission_after_the_deadline_is_refused(world: World, as_user: Any) -> None:
    proposal = make_proposal(world)
    CsrCycle.objects.filter(pk=world.cycle.pk).update(proposal_deadline=timezone.now() - dt.timedelta(hours=1))
    body = refused(
        as_user(world.company_a).post(f"{PROPOSALS}{proposal.pk}/submit/", {}, format="json"), 400, "deadline_passed"
    )
    assert "Batas pengajuan usulan" in body["message"] and "sudah lewat" in body["message"]
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DRAFT
    # The secretariat reopens for this company: the same request goes through.
    services.cycle_reopen(
        actor=world.secretariat,
        cycle=world.cycle,
        organization=world.company_a.test_organization,
        until=timezone.now() + dt.timedelta(days=2),
        note="Surat permohonan perpanjangan",
    )
    assert as_user(world.company_a).post(f"{PROPOSALS}{proposal.pk}/submit/", {}, format="json").status_code == 200


PARTNER_STEPS = ("submit", "withdraw", "implement", "report")
SECRETARIAT_STEPS = ("return", "verify", "agree")


@pytest.mark.parametrize("step", SECRETARIAT_STEPS)
def test_partner_may_not_take_secretariat_steps(world: World, as_user: Any, step: str) -> None:
    proposal = make_proposal(world, ProposalStatus.SUBMITTED)
    response = as_user(world.company_a).post(f"{PROPOSALS}{proposal.pk}/{step}/", {"note": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Hanya sekretariat TKPK yang dapat melakukan tindakan ini."
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.SUBMITTED


@pytest.mark.parametrize("step", PARTNER_STEPS)
def test_secretariat_may_not_take_partner_steps(world: World, as_user: Any, step: str) -> None:
    proposal = make_proposal(world)
    response = as_user(world.secretariat).post(f"{PROPOSALS}{proposal.pk}/{step}/", {"note": "x"}, format="json")
    assert response.status_code == 403
    assert "pengguna mitra" in response.json()["detail"]
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DRAFT


# (step, actor, state the proposal is in, its label in the message)
WRONG_STATE = [
    ("submit", "company_a", ProposalStatus.AGREED, "Disepakati (PKS)"),
    ("withdraw", "company_a", ProposalStatus.WITHDRAWN, "Ditarik"),
    ("implement", "company_a", ProposalStatus.DRAFT, "Draf"),
    ("report", "company_a", ProposalStatus.SUBMITTED, "Diajukan"),
    ("return", "secretariat", ProposalStatus.DRAFT, "Draf"),
    ("verify", "secretariat", ProposalStatus.VERIFIED, "Terverifikasi"),
    ("agree", "secretariat", ProposalStatus.SUBMITTED, "Diajukan"),
]


@pytest.mark.parametrize(("step", "actor", "state", "label"), WRONG_STATE)
def test_steps_in_the_wrong_state_are_refused_in_bahasa(
    world: World, as_user: Any, step: str, actor: str, state: str, label: str
) -> None:
    proposal = make_proposal(world, state)
    payload = {**agree_payload(f"PKS/{step}"), "note": "catatan", "final_report": "laporan"}
    response = as_user(getattr(world, actor)).post(f"{PROPOSALS}{proposal.pk}/{step}/", payload, format="json")
    body = refused(response, 400, "invalid_state")
    assert body["message"].startswith(f"Usulan berstatus {label} tidak dapat di-")
    proposal.refresh_from_db()
    assert proposal.status == state


def test_target_verification_outside_the_submitted_state_is_refused(world: World, as_user: Any) -> None:
    proposal = make_proposal(world)
    target = proposal.targets.first()
    body = refused(
        as_user(world.secretariat).post(
            f"{PROPOSALS}{proposal.pk}/targets/{target.pk}/verify/", {"result": "eligible"}, format="json"
        ),
        400,
        "invalid_state",
    )
    assert body["message"] == "Verifikasi lapangan hanya untuk usulan yang sudah diajukan."
    target.refresh_from_db()
    assert target.verification == VerificationResult.PENDING


def test_additional_target_is_linked_to_the_registry_on_verification(world: World, as_user: Any) -> None:
    a, sec = as_user(world.company_a), as_user(world.secretariat)
    additional = [{"reason": "Janda dengan 3 anak", "name": "Ibu Sarmi", "address": "RT 3", "desa": "3324012001"}]
    created = a.post(
        PROPOSALS, proposal_payload(world, world.households_a[:1], additional=additional), format="json"
    ).json()
    url = f"{PROPOSALS}{created['id']}/"
    a.post(f"{url}submit/", {}, format="json")
    extra = ProposalTarget.objects.get(proposal_id=created["id"], is_additional=True)
    found = world.add_household()
    refused(sec.post(f"{url}targets/{extra.pk}/verify/", {"result": "eligible"}, format="json"), 400, "not_linked")
    f.region("6402")
    kukar_desa = Region.objects.filter(code__startswith="6402", level=4).order_by("code").first()
    other_region = world.add_household(desa=kukar_desa)
    refused(
        sec.post(
            f"{url}targets/{extra.pk}/verify/", {"result": "eligible", "household": other_region.pk}, format="json"
        ),
        400,
        "household_not_found",
    )
    linked = sec.post(f"{url}targets/{extra.pk}/verify/", {"result": "eligible", "household": found.pk}, format="json")
    assert linked.status_code == 200, linked.content
    assert linked.json()["household"] == found.pk and linked.json()["allocation"] is not None
    assert Allocation.objects.get(pk=linked.json()["allocation"]).organization == world.company_a.test_organization


def test_overlaps_are_shown_to_the_secretariat_only(world: World, as_user: Any) -> None:
    proposal = make_proposal(world, ProposalStatus.SUBMITTED)
    household = world.households_a[0]
    program = f.ProgramFactory(assistance_kind=world.kind, name="Bantuan Pangan APBD")
    f.InterventionFactory(program=program, household=household)
    PersonalDataAccess.objects.all().delete()
    response = as_user(world.secretariat).get(f"{PROPOSALS}{proposal.pk}/overlaps/")
    assert response.status_code == 200
    [row] = response.json()
    assert row["household"] == household.pk and row["head_name"] == household.head_name
    assert [(i["source"], i["label"]) for i in row["items"]] == [("program", "Bantuan Pangan APBD")]
    assert PersonalDataAccess.objects.get().object_ids == [household.pk]
    forbidden = as_user(world.company_a).get(f"{PROPOSALS}{proposal.pk}/overlaps/")
    assert forbidden.status_code == 403


def test_agreement_download_before_agreement_is_404(world: World, as_user: Any) -> None:
    proposal = make_proposal(world, ProposalStatus.VERIFIED)
    response = as_user(world.company_a).get(f"{PROPOSALS}{proposal.pk}/agreement/")
    assert response.status_code == 404
    assert response.json()["detail"] == "Usulan ini belum memiliki PKS."


def test_proposal_list_query_count_does_not_grow(
    world: World, as_user: Any, django_assert_max_num_queries: Any
) -> None:
    make_proposal(world, ProposalStatus.AGREED)
    for _ in range(5):
        f.ProposalFactory(organization=world.company_a.test_organization, cycle=world.cycle)
    for user in (world.company_a, world.secretariat):
        client = as_user(user)
        client.get(PROPOSALS)  # session and scope warm-up
        with django_assert_max_num_queries(6):
            rows = client.get(PROPOSALS).json()["results"]
        assert len(rows) == 6 and sum(1 for r in rows if r["agreement"]) == 1


def test_proposal_list_filters(world: World, as_user: Any) -> None:
    draft = make_proposal(world)
    client = as_user(world.secretariat)
    assert [r["id"] for r in client.get(PROPOSALS, {"status": "draft"}).json()["results"]] == [draft.pk]
    assert client.get(PROPOSALS, {"status": "agreed"}).json()["results"] == []
    assert client.get(PROPOSALS, {"organization": world.company_b.test_organization.pk}).json()["results"] == []
    refused(client.get(PROPOSALS, {"status": "selesai"}), 400, "invalid_filter")


# ---------------------------------------------------------------------------------------------- refusals


def refusal_payload(world: World, **kw: Any) -> dict[str, Any]:
    return {
        "cycle": world.cycle.pk,
        "reason": "Perusahaan sedang dalam proses restrukturisasi dan belum memiliki anggaran TJSL.",
        "signatory_name": "Hendra Wijaya",
        "signatory_position": "Direktur Utama",
        **kw,
    }


def test_refusal_letter_acknowledgement_and_isolation(world: World, as_user: Any) -> None:
    b, a, sec = as_user(world.company_b), as_user(world.company_a), as_user(world.secretariat)
    refused(b.post(REFUSALS, refusal_payload(world, reason="Tidak ada."), format="json"), 400, "reason_short")
    response = b.post(REFUSALS, refusal_payload(world), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["has_letter"] is True and body["acknowledged"] is False and body["letter_number"]
    url = f"{REFUSALS}{body['id']}/"

    again = refused(b.post(REFUSALS, refusal_payload(world), format="json"), 400, "already_refused")
    assert again["message"] == "Organisasi Anda sudah mengirim surat tidak berpartisipasi untuk siklus ini."

    letter = b.get(f"{url}letter/")
    assert letter.status_code == 200 and letter["Content-Type"] == "application/pdf"
    assert "restrukturisasi" in pdf_text(b"".join(letter.streaming_content))

    assert a.get(REFUSALS).json()["results"] == []
    assert a.get(url).status_code == 404 and a.get(f"{url}letter/").status_code == 404
    assert [r["id"] for r in sec.get(REFUSALS).json()["results"]] == [body["id"]]

    assert b.post(f"{url}acknowledge/", {}, format="json").status_code == 403
    acknowledged = sec.post(f"{url}acknowledge/", {"note": "Diterima Bappeda"}, format="json")
    assert acknowledged.status_code == 200 and acknowledged.json()["acknowledged"] is True
    body = refused(sec.post(f"{url}acknowledge/", {}, format="json"), 400, "already_acknowledged")
    assert body["message"] == "Surat ini sudah diterima sebelumnya."
    assert Refusal.objects.get().acknowledged_by == world.secretariat


def test_refusal_is_refused_while_a_proposal_is_active_and_for_the_secretariat(world: World, as_user: Any) -> None:
    make_proposal(world, ProposalStatus.SUBMITTED)
    body = refused(
        as_user(world.company_a).post(REFUSALS, refusal_payload(world), format="json"), 400, "proposal_active"
    )
    assert "tarik usulan itu lebih dahulu" in body["message"]
    assert as_user(world.secretariat).post(REFUSALS, refusal_payload(world), format="json").status_code == 403
    assert not Refusal.objects.exists()


# ------------------------------------------------------------------------------------------------ schema


def test_schema_lists_the_csr_endpoints_and_workflow_actions(world: World, tmp_path: Any) -> None:
    body = APIClient().get("/api/schema/").content.decode()
    for path in (
        "/api/v1/csr/cycles/",
        "/api/v1/csr/allocations/",
        "/api/v1/csr/allocations/{id}/release/",
        "/api/v1/csr/proposals/{id}/targets/",
        "/api/v1/csr/proposals/{id}/targets/{target_id}/verify/",
        "/api/v1/csr/proposals/{id}/overlaps/",
        "/api/v1/csr/proposals/{id}/agreement/",
        "/api/v1/csr/proposals/{id}/deliveries/",
        "/api/v1/csr/refusals/{id}/acknowledge/",
        "/api/v1/csr/refusals/{id}/letter/",
        *(f"/api/v1/csr/proposals/{{id}}/{step}/" for step in (*PARTNER_STEPS, *SECRETARIAT_STEPS)),
    ):
        assert f"{path}:" in body, path
    assert "ProposalStatusEnum" in body and "application/pdf" in body
    for secret in world.secrets:
        assert secret not in body
    # No warning either (enum names, path parameters, serializer method fields).
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
