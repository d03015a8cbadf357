"""The secretariat's CSR pages (/csr/): cycles, the allocation tool (count, allocate, override), the map, the
allocation list, the proposal review with field verification and agreement PDF, refusals, and who may open them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from csr import services
from csr.models import (
    Agreement,
    Allocation,
    AllocationSource,
    AllocationStatus,
    CsrCycle,
    CycleReopen,
    Proposal,
    ProposalStatus,
    VerificationResult,
)
from households.choices import Relationship
from households.models import Household, Person
from programs.models import AssistanceKind
from reports.models import RegionBoundarySet
from reports.services import gap_recompute_now
from tests import factories as f
from tkpk.models import AccessAction, Organization, PersonalDataAccess, Region, RegionLevel
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

PLANTUNGAN = "332401"
BLUMAH = "3324012001"


@dataclass
class World:
    cycle: CsrCycle
    kind: AssistanceKind
    company: Organization
    company_user: Any
    other_company: Organization
    other_user: Any
    secretariat: Any
    area: list[Household]  # in the company's operating area (kecamatan Plantungan): desil 1 ×4, desil 2 ×1
    outside: list[Household]  # another kecamatan: desil 1 ×2
    heads: dict[int, Person]


@pytest.fixture
def world(settings: Any, tmp_path: Any) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    blumah = f.desa(BLUMAH)
    other_desa_in_area = Region.objects.filter(level=RegionLevel.DESA, code__startswith=PLANTUNGAN).exclude(
        code=BLUMAH
    )[0]
    outside_desa = Region.objects.filter(level=RegionLevel.DESA, code__startswith="332402").order_by("code")[0]
    area = [
        f.HouseholdFactory(desa=blumah, desil=1, head_name="Sutrisno Aman"),
        f.HouseholdFactory(desa=blumah, desil=1, head_name="Wagiyem Lestari"),
        f.HouseholdFactory(desa=other_desa_in_area, desil=1, head_name="Darmaji Putra"),
        f.HouseholdFactory(desa=other_desa_in_area, desil=1, head_name="Sumirah Wati"),
        f.HouseholdFactory(desa=blumah, desil=2, head_name="Paijo Slamet"),
    ]
    outside = [
        f.HouseholdFactory(desa=outside_desa, desil=1, head_name="Kasmirah Dewi"),
        f.HouseholdFactory(desa=outside_desa, desil=1, head_name="Tukiman Jaya"),
    ]
    heads = {
        h.pk: f.PersonFactory(
            household=h, relationship=Relationship.HEAD, name=h.head_name, birth_date=dt.date(1975, 5, 17)
        )
        for h in (*area, *outside)
    }
    cycle = f.CsrCycleFactory()
    gap_recompute_now(year=cycle.year, region_code="3324")
    company = f.OrganizationFactory(company=True, name="PT Sawit Makmur")
    company.area.set([Region.objects.get(code=PLANTUNGAN)])
    other_company = f.OrganizationFactory(company=True, name="PT Tambang Jaya")
    return World(
        cycle=cycle,
        kind=f.reference(AssistanceKind, "pangan"),
        company=company,
        company_user=f.user_with_role(Role.PARTNER, organization=company),
        other_company=other_company,
        other_user=f.user_with_role(Role.PARTNER, organization=other_company),
        secretariat=f.user_with_role(Role.SECRETARIAT),
        area=area,
        outside=outside,
        heads=heads,
    )


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def allocate_params(w: World, **extra: Any) -> dict[str, Any]:
    params = {
        "organization": w.company.pk,
        "assistance_kind": w.kind.pk,
        "desil": "1",
        "uncovered": "on",
        "not_allocated": "on",
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def submitted_proposal(w: World, households: list[Household], **attrs: Any) -> Proposal:
    services.allocations_create(
        actor=w.secretariat,
        cycle=w.cycle,
        organization=w.company,
        assistance_kind=w.kind,
        household_ids=[h.pk for h in households],
    )
    proposal = f.ProposalFactory(organization=w.company, cycle=w.cycle, **attrs)
    services.proposal_update(actor=w.company_user, proposal=proposal, household_ids=[h.pk for h in households])
    return services.proposal_transition(actor=w.company_user, proposal=proposal, action="submit")


# ------------------------------------------------------------------------------------------------- cycles


def test_cycle_list_shows_counts_per_cycle(world: World) -> None:
    w = world
    submitted_proposal(w, w.area[:2])
    f.ProposalFactory(organization=w.other_company, cycle=w.cycle)  # a draft
    client = client_for(w.secretariat)
    response = client.get(reverse("csr:cycle-list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert w.cycle.name in content
    row = content[content.index(f'data-cycle="{w.cycle.pk}"') :]
    assert 'data-testid="cycle-households">2<' in row
    assert "Diajukan: 1" in row and "Draf: 1" in row
    assert 'data-testid="nav-csr"' in content


def test_cycle_create_and_edit(world: World) -> None:
    w = world
    client = client_for(w.secretariat)
    assert client.get(reverse("csr:cycle-new")).status_code == 200
    data = {
        "region": "3324",
        "year": "2027",
        "name": "Musrenbang CSR 2027",
        "proposal_deadline": "2027-03-31T16:00",
        "verification_starts": "2027-04-01",
        "verification_ends": "2027-04-30",
        "realisation_deadline": "2027-11-30",
        "status": "open",
        "required_sectors": ["plantation", "mining", "energy"],
        "note": "",
    }
    response = client.post(reverse("csr:cycle-new"), data)
    cycle = CsrCycle.objects.get(name="Musrenbang CSR 2027")
    assert response.status_code == 302 and response["Location"] == reverse("csr:cycle-detail", args=[cycle.pk])
    assert cycle.region_id == "3324" and cycle.created_by == w.secretariat
    assert sorted(cycle.required_sectors) == ["energy", "mining", "plantation"]
    # The same name again in the same year and region: refused with the model's message, nothing created.
    again = client.post(reverse("csr:cycle-new"), data)
    assert again.status_code == 400 and CsrCycle.objects.filter(name="Musrenbang CSR 2027").count() == 1
    # Verification ending before it starts: refused in Bahasa Indonesia.
    bad = client.post(reverse("csr:cycle-edit", args=[cycle.pk]), {**data, "verification_ends": "2027-03-01"})
    assert bad.status_code == 400
    assert "Verifikasi selesai tidak boleh sebelum tanggal mulai." in bad.content.decode()
    edit = client.post(reverse("csr:cycle-edit", args=[cycle.pk]), {**data, "required_sectors": ["mining"]})
    assert edit.status_code == 302
    cycle.refresh_from_db()
    assert cycle.required_sectors == ["mining"]


def test_cycle_detail_lists_partners_and_reopens_one(world: World) -> None:
    w = world
    services.allocations_create(
        actor=w.secretariat,
        cycle=w.cycle,
        organization=w.company,
        assistance_kind=w.kind,
        household_ids=[h.pk for h in w.area[:3]],
    )
    client = client_for(w.secretariat)
    response = client.get(reverse("csr:cycle-detail", args=[w.cycle.pk]))
    assert response.status_code == 200
    rows = {row.organization.pk: row for row in response.context["partners"]}
    assert rows[w.company.pk].households == 3 and rows[w.company.pk].required
    assert rows[w.other_company.pk].households == 0
    until = (timezone.localtime() + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    url = reverse("csr:cycle-reopen", args=[w.cycle.pk, w.company.pk])
    assert client.post(url, {"until": until, "note": ""}).status_code == 302
    assert not CycleReopen.objects.exists()
    client.post(url, {"until": until, "note": "Surat permohonan perpanjangan 2 Des"})
    reopen = CycleReopen.objects.get()
    assert reopen.organization == w.company and reopen.note == "Surat permohonan perpanjangan 2 Des"
    page = client.get(reverse("csr:cycle-detail", args=[w.cycle.pk])).content.decode()
    assert "Surat permohonan perpanjangan 2 Des" in page


# --------------------------------------------------------------------------------------------- allocation


def test_allocation_count_equals_the_real_number(world: World) -> None:
    w = world
    client = client_for(w.secretariat)
    url = reverse("csr:allocate", args=[w.cycle.pk])
    response = client.get(url, allocate_params(w))
    real = Household.objects.filter(kecamatan_code=PLANTUNGAN, desil=1).count()
    assert real == 4
    assert response.context["preview"]["count"] == real
    assert 'data-testid="candidate-count">4<' in response.content.decode()
    assert {row["fact"].household_id for row in response.context["preview"]["sample"]} == {h.pk for h in w.area[:4]}
    # All desil: the desil-2 household too; never a household outside the operating area.
    everyone = client.get(url, allocate_params(w, desil=""))
    assert everyone.context["preview"]["count"] == 5
    # One desa only (htmx live count answers with the partial).
    partial = client.get(
        url, allocate_params(w, region=BLUMAH), headers={"HX-Request": "true", "HX-Target": "allocate-preview"}
    )
    assert partial.context["preview"]["count"] == 2
    assert b"<html" not in partial.content
    # The sample shown is logged as a by-name view.
    log = PersonalDataAccess.objects.filter(object_type="csr_allocation_candidates").latest("id")
    assert log.user == w.secretariat and set(log.object_ids) == {w.area[0].pk, w.area[1].pk}


def test_allocate_creates_rows_and_skips_other_partners(world: World) -> None:
    w = world
    taken = w.area[0]
    services.allocations_create(
        actor=w.secretariat,
        cycle=w.cycle,
        organization=w.other_company,
        assistance_kind=w.kind,
        household_ids=[taken.pk],
    )
    client = client_for(w.secretariat)
    url = reverse("csr:allocate", args=[w.cycle.pk])
    # "Belum dialokasikan" off: the other partner's household is still left out, and said so.
    preview = client.get(url, allocate_params(w, not_allocated=None))
    assert preview.context["preview"]["count"] == 3
    assert preview.context["preview"]["held_by_others"] == 1
    response = client.post(url, {**allocate_params(w, not_allocated=None), "allocate": "1"})
    assert response.status_code == 200
    result = response.context["result"]
    assert result.created == 3 and result.skipped == 0
    rows = Allocation.objects.filter(cycle=w.cycle, organization=w.company, status=AllocationStatus.ACTIVE)
    assert set(rows.values_list("household_id", flat=True)) == {h.pk for h in w.area[1:4]}
    assert set(rows.values_list("source", flat=True)) == {AllocationSource.GAP_LIST}
    assert set(rows.values_list("created_by", flat=True)) == {w.secretariat.pk}
    assert not Allocation.objects.filter(organization=w.company, household=taken).exists()
    assert 'data-testid="allocate-result"' in response.content.decode()
    # Again: nothing left to allocate.
    assert client.get(url, allocate_params(w)).context["preview"]["count"] == 0
    # The limit: only the first N (poorest first) of the desil 1–2 households left.
    limited = client.post(url, {**allocate_params(w, desil="", limit="1"), "allocate": "1"})
    assert limited.context["result"].created == 1
    assert Allocation.objects.filter(organization=w.company, household=w.area[4]).exists()


def test_override_is_recorded_with_its_reason(world: World) -> None:
    w = world
    taken = w.area[0]
    services.allocations_create(
        actor=w.secretariat,
        cycle=w.cycle,
        organization=w.other_company,
        assistance_kind=w.kind,
        household_ids=[taken.pk],
    )
    client = client_for(w.secretariat)
    url = reverse("csr:allocate", args=[w.cycle.pk])
    missing_reason = client.post(url, {**allocate_params(w, not_allocated=None, override="on"), "allocate": "1"})
    assert missing_reason.status_code == 400
    assert "Tuliskan alasan bila menyertakan keluarga milik mitra lain." in missing_reason.content.decode()
    assert not Allocation.objects.filter(organization=w.company).exists()
    reason = "Rumah rusak berat, dua mitra berbagi biaya"
    response = client.post(
        url,
        {
            **allocate_params(w, not_allocated=None, override="on", override_reason=reason, region=BLUMAH),
            "allocate": "1",
        },
    )
    assert response.context["result"].created == 2
    doubled = Allocation.objects.get(organization=w.company, household=taken)
    assert doubled.override_reason == reason
    single = Allocation.objects.get(organization=w.company, household=w.area[1])
    assert single.override_reason == ""
    assert Allocation.objects.active().filter(household=taken, cycle=w.cycle, assistance_kind=w.kind).count() == 2
    listing = client.get(reverse("csr:allocation-list", args=[w.cycle.pk]), {"organization": w.company.pk})
    assert reason in listing.content.decode()


def test_allocation_list_masks_nik_and_releases_one(world: World) -> None:
    w = world
    services.allocations_create(
        actor=w.secretariat,
        cycle=w.cycle,
        organization=w.company,
        assistance_kind=w.kind,
        household_ids=[h.pk for h in w.area[:2]],
    )
    client = client_for(w.secretariat)
    response = client.get(reverse("csr:allocation-list", args=[w.cycle.pk]))
    content = response.content.decode()
    nik = w.heads[w.area[0].pk].nik
    assert w.area[0].head_name in content and nik not in content and f"{nik[:4]}" in content
    allocation = Allocation.objects.get(household=w.area[0], organization=w.company)
    release = reverse("csr:allocation-release", args=[allocation.pk])
    client.post(release, {"reason": ""})
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.ACTIVE
    client.post(release, {"reason": "Keluarga menolak bantuan"})
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.RELEASED and allocation.released_reason == "Keluarga menolak bantuan"
    assert PersonalDataAccess.objects.filter(object_type="csr_allocation", user=w.secretariat).exists()


def test_allocation_map_counts_per_kecamatan_and_desa(world: World) -> None:
    w = world
    services.allocations_create(
        actor=w.secretariat,
        cycle=w.cycle,
        organization=w.company,
        assistance_kind=w.kind,
        household_ids=[h.pk for h in w.area[:3]],
    )
    client = client_for(w.secretariat)
    response = client.get(reverse("csr:allocation-map", args=[w.cycle.pk]))
    assert response.status_code == 200
    data = response.context["map"]
    rows = {r.code: r for r in data.rows}
    assert (rows[PLANTUNGAN].target, rows[PLANTUNGAN].allocated, rows[PLANTUNGAN].unallocated) == (4, 3, 1)
    assert (rows["332402"].target, rows["332402"].allocated) == (2, 0)
    assert (data.target, data.allocated, data.unallocated) == (6, 3, 3)
    assert data.geojson is None  # no boundary set: table only
    square = [[[110.0, -6.9], [110.1, -6.9], [110.1, -7.0], [110.0, -7.0], [110.0, -6.9]]]
    RegionBoundarySet.objects.create(
        region_id="3324",
        level=3,
        name="Batas",
        geojson={
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"kode": code},
                    "geometry": {"type": "Polygon", "coordinates": square},
                }
                for code in ("33.24.01", "332402")
            ],
        },
        feature_count=2,
    )
    mapped = client.get(reverse("csr:allocation-map", args=[w.cycle.pk]))
    features = {x["properties"]["code"]: x["properties"] for x in mapped.context["map"].geojson["features"]}
    assert (features[PLANTUNGAN]["desil1"], features[PLANTUNGAN]["desil1_uncovered"]) == (4, 1)
    assert features["332402"]["desil1_uncovered"] == 2
    assert 'id="gap-map"' in mapped.content.decode() and "reports/dashboard.js" in mapped.content.decode()
    desa = client.get(reverse("csr:allocation-map", args=[w.cycle.pk]), {"region": PLANTUNGAN}).context["map"]
    by_desa = {r.code: r for r in desa.rows}
    assert (by_desa[BLUMAH].target, by_desa[BLUMAH].allocated) == (2, 2)


# ------------------------------------------------------------------------------------------------- review


def test_review_queue_and_proposal_page_show_overlaps(world: World) -> None:
    w = world
    proposal = submitted_proposal(w, w.area[:2])
    # Sutrisno already gets food aid from an APBD program this year.
    program = f.ProgramFactory(name="Bantuan Pangan Daerah", year=w.cycle.year)
    f.InterventionFactory(program=program, household=w.area[0])
    client = client_for(w.secretariat)
    queue = client.get(reverse("csr:review", args=[w.cycle.pk]))
    assert [p.pk for p in queue.context["proposals"]] == [proposal.pk]
    response = client.get(reverse("csr:proposal-review", args=[proposal.pk]))
    assert response.status_code == 200
    rows = {row.target.household_id: row for row in response.context["targets"]}
    assert [o.label for o in rows[w.area[0].pk].overlaps] == ["Bantuan Pangan Daerah"]
    assert rows[w.area[1].pk].overlaps == []
    content = response.content.decode()
    assert w.heads[w.area[0].pk].nik not in content
    assert rows[w.area[0].pk].nik and rows[w.area[0].pk].nik in content
    assert "Bantuan Pangan Daerah" in content
    log = PersonalDataAccess.objects.filter(object_type="csr_proposal").latest("id")
    assert sorted(log.object_ids) == sorted(h.pk for h in w.area[:2])


def test_verification_ineligible_returns_the_household_to_the_pool(world: World) -> None:
    w = world
    proposal = submitted_proposal(w, w.area[:2])
    client = client_for(w.secretariat)
    url = reverse("csr:allocate", args=[w.cycle.pk])
    assert client.get(url, allocate_params(w)).context["preview"]["count"] == 2
    targets = {t.household_id: t for t in proposal.targets.all()}
    moved, eligible = targets[w.area[0].pk], targets[w.area[1].pk]
    # "Other" without a note is refused for that row; the other row is saved.
    response = client.post(
        reverse("csr:proposal-verify", args=[proposal.pk]),
        {f"result-{moved.pk}": "other", f"note-{moved.pk}": "", f"result-{eligible.pk}": "eligible"},
        follow=True,
    )
    assert "Hasil &#x27;lainnya&#x27; wajib disertai catatan." in response.content.decode()
    eligible.refresh_from_db()
    moved.refresh_from_db()
    assert eligible.verification == VerificationResult.ELIGIBLE and eligible.verified_by == w.secretariat
    assert moved.verification == VerificationResult.PENDING
    client.post(
        reverse("csr:proposal-verify", args=[proposal.pk]),
        {f"result-{moved.pk}": "moved", f"note-{moved.pk}": "Pindah ke Semarang"},
    )
    moved.refresh_from_db()
    assert moved.verification == VerificationResult.MOVED and moved.verification_note == "Pindah ke Semarang"
    allocation = Allocation.objects.get(pk=moved.allocation_id)
    assert allocation.status == AllocationStatus.RELEASED
    preview = client.get(url, allocate_params(w)).context["preview"]
    assert preview["count"] == 3
    assert w.area[0].pk in {row["fact"].household_id for row in preview["sample"]}


def test_additional_target_linked_through_the_registry_search(world: World) -> None:
    w = world
    services.allocations_create(
        actor=w.secretariat, cycle=w.cycle, organization=w.company, assistance_kind=w.kind, household_ids=[w.area[0].pk]
    )
    proposal = f.ProposalFactory(organization=w.company, cycle=w.cycle)
    services.proposal_update(
        actor=w.company_user,
        proposal=proposal,
        household_ids=[w.area[0].pk],
        additional=[
            services.AdditionalTarget(
                reason="Janda lansia, belum terdata", name="Mbah Sumirah", address="Dusun Krajan", desa=f.desa(BLUMAH)
            )
        ],
    )
    services.proposal_transition(actor=w.company_user, proposal=proposal, action="submit")
    additional = proposal.targets.get(is_additional=True)
    client = client_for(w.secretariat)
    search = client.get(reverse("csr:household-search", args=[proposal.pk]), {"q": "Sumirah", "target": additional.pk})
    assert [h.pk for h in search.context["households"]] == [w.area[3].pk]
    nik = w.heads[w.area[3].pk].nik
    by_nik = client.get(reverse("csr:household-search", args=[proposal.pk]), {"q": nik, "target": additional.pk})
    assert [h.pk for h in by_nik.context["households"]] == [w.area[3].pk]
    # Eligible without a link is refused; with the link it becomes an allocation of the partner.
    client.post(reverse("csr:proposal-verify", args=[proposal.pk]), {f"result-{additional.pk}": "eligible"})
    additional.refresh_from_db()
    assert additional.verification == VerificationResult.PENDING
    client.post(
        reverse("csr:proposal-verify", args=[proposal.pk]),
        {f"result-{additional.pk}": "eligible", f"household-{additional.pk}": str(w.area[3].pk)},
    )
    additional.refresh_from_db()
    assert additional.household_id == w.area[3].pk and additional.verification == VerificationResult.ELIGIBLE
    assert Allocation.objects.get(pk=additional.allocation_id).source == AllocationSource.PROPOSAL
    # An id outside the secretariat's region is not linked.
    f.region(f.KUTAI_KARTANEGARA)
    kukar = f.HouseholdFactory(desa=Region.objects.filter(level=RegionLevel.DESA, code__startswith="6402")[0])
    other = proposal.targets.get(is_additional=False)
    response = client.post(
        reverse("csr:proposal-verify", args=[proposal.pk]),
        {f"result-{other.pk}": "eligible", f"household-{other.pk}": str(kukar.pk)},
        follow=True,
    )
    other.refresh_from_db()
    assert other.household_id == w.area[0].pk and other.verification == VerificationResult.ELIGIBLE
    assert response.status_code == 200


def test_return_verify_and_agree_create_the_agreement_pdf(world: World) -> None:
    w = world
    proposal = submitted_proposal(w, w.area[:3], title="Sembako Sehat Plantungan")
    client = client_for(w.secretariat)
    action = reverse("csr:proposal-action", args=[proposal.pk])
    # Returning needs a note; verifying needs every target verified.
    response = client.post(action, {"action": "return", "note": ""}, follow=True)
    assert "Tuliskan catatan perbaikan untuk mitra." in response.content.decode()
    response = client.post(action, {"action": "verify"}, follow=True)
    assert "Masih ada 3 sasaran yang belum diverifikasi di lapangan." in response.content.decode()
    targets = {t.household_id: t for t in proposal.targets.all()}
    client.post(
        reverse("csr:proposal-verify", args=[proposal.pk]),
        {
            f"result-{targets[w.area[0].pk].pk}": "eligible",
            f"result-{targets[w.area[1].pk].pk}": "eligible",
            f"result-{targets[w.area[2].pk].pk}": "deceased",
        },
    )
    client.post(action, {"action": "verify", "note": "Verifikasi bersama 5 Des"})
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.VERIFIED
    incomplete = client.post(action, {"action": "agree", "number": "PKS/01/2026"}, follow=True)
    assert "Lengkapi data PKS" in incomplete.content.decode()
    assert not Agreement.objects.exists()
    client.post(
        action,
        {
            "action": "agree",
            "number": "PKS/01/CSR/2026",
            "signed_on": "2026-12-10",
            "place": "Kendal",
            "government_signatory": "Kepala Bappeda Kabupaten Kendal",
            "company_signatory": "Direktur PT Sawit Makmur",
        },
    )
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.AGREED
    agreement = Agreement.objects.get(proposal=proposal)
    assert agreement.number == "PKS/01/CSR/2026" and agreement.place == "Kendal"
    download = client.get(reverse("csr:agreement-pdf", args=[proposal.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert 'filename="pks-PKS-01-CSR-2026.pdf"' in download["Content-Disposition"]
    pdf_path = agreement.pdf.path
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf_path).pages).split())
    assert w.area[0].head_name in text and w.area[1].head_name in text
    assert w.area[2].head_name not in text  # deceased: not a target of the agreement
    for household in w.area[:3]:
        assert w.heads[household.pk].nik not in text
    assert w.heads[w.area[0].pk].nik[:4] in text
    log = PersonalDataAccess.objects.get(object_type="csr_agreement")
    assert log.action == AccessAction.EXPORT and sorted(log.object_ids) == sorted(h.pk for h in w.area[:2])
    refresh = client.post(reverse("csr:agreement-refresh", args=[proposal.pk]))
    assert refresh.status_code == 302
    agreement.refresh_from_db()
    assert agreement.pdf and PdfReader(agreement.pdf.path).pages


# ----------------------------------------------------------------------------------------------- refusals


def test_refusals_list_letter_and_acknowledge(world: World) -> None:
    w = world
    refusal = services.refusal_submit(
        actor=w.other_user,
        organization=w.other_company,
        cycle=w.cycle,
        reason="Program TJSL tahun ini sudah terikat pada kegiatan pendidikan di wilayah tambang.",
        signatory_name="Ir. Bambang",
        signatory_position="Direktur",
    )
    client = client_for(w.secretariat)
    page = client.get(reverse("csr:refusal-list", args=[w.cycle.pk])).content.decode()
    assert refusal.letter_number in page and "Ir. Bambang" in page
    letter = client.get(reverse("csr:refusal-pdf", args=[refusal.pk]))
    assert letter.status_code == 200 and letter["Content-Type"] == "application/pdf"
    assert b"".join(letter.streaming_content).startswith(b"%PDF")
    client.post(reverse("csr:refusal-acknowledge", args=[refusal.pk]), {"note": "Diterima Bappeda"})
    refusal.refresh_from_db()
    assert refusal.acknowledged_by == w.secretariat and refusal.acknowledgement_note == "Diterima Bappeda"
    again = client.post(reverse("csr:refusal-acknowledge", args=[refusal.pk]), {"note": ""}, follow=True)
    assert "Surat ini sudah diterima sebelumnya." in again.content.decode()


# ---------------------------------------------------------------------------------------------- who may


def _urls(w: World, proposal: Proposal, allocation: Allocation, refusal_pk: int) -> dict[str, str]:
    c = w.cycle.pk
    return {
        "cycle-detail": reverse("csr:cycle-detail", args=[c]),
        "cycle-edit": reverse("csr:cycle-edit", args=[c]),
        "allocate": reverse("csr:allocate", args=[c]),
        "allocation-list": reverse("csr:allocation-list", args=[c]),
        "allocation-map": reverse("csr:allocation-map", args=[c]),
        "review": reverse("csr:review", args=[c]),
        "proposal-review": reverse("csr:proposal-review", args=[proposal.pk]),
        "household-search": reverse("csr:household-search", args=[proposal.pk]) + "?q=Sutrisno",
        "agreement-pdf": reverse("csr:agreement-pdf", args=[proposal.pk]),
        "refusal-list": reverse("csr:refusal-list", args=[c]),
        "refusal-pdf": reverse("csr:refusal-pdf", args=[refusal_pk]),
    }


@pytest.fixture
def agreed(world: World) -> tuple[Proposal, Allocation, int]:
    w = world
    proposal = submitted_proposal(w, w.area[:1])
    target = proposal.targets.get()
    services.target_verify(actor=w.secretariat, target=target, result=VerificationResult.ELIGIBLE)
    services.proposal_transition(actor=w.secretariat, proposal=proposal, action="verify")
    services.proposal_transition(
        actor=w.secretariat,
        proposal=proposal,
        action="agree",
        number="PKS/99",
        signed_on=dt.date.today(),
        government_signatory="Kepala Bappeda",
        company_signatory="Direktur",
    )
    refusal = services.refusal_submit(
        actor=w.other_user,
        organization=w.other_company,
        cycle=w.cycle,
        reason="Anggaran TJSL tahun ini sudah habis untuk bencana banjir.",
        signatory_name="Budi",
        signatory_position="Direktur",
    )
    return proposal, Allocation.objects.get(household=w.area[0], organization=w.company), refusal.pk


def test_secretariat_of_another_kabupaten_gets_404(world: World, agreed: Any) -> None:
    w = world
    proposal, allocation, refusal_pk = agreed
    kukar = client_for(f.user_with_role(Role.SECRETARIAT, f.KUTAI_KARTANEGARA))
    assert kukar.get(reverse("csr:cycle-list")).status_code == 200
    assert w.cycle.name not in kukar.get(reverse("csr:cycle-list")).content.decode()
    for name, url in _urls(w, proposal, allocation, refusal_pk).items():
        assert kukar.get(url).status_code == 404, name
    writes = [
        (reverse("csr:allocate", args=[w.cycle.pk]), {**allocate_params(w), "allocate": "1"}),
        (reverse("csr:allocation-release", args=[allocation.pk]), {"reason": "x"}),
        (reverse("csr:proposal-action", args=[proposal.pk]), {"action": "return", "note": "x"}),
        (reverse("csr:proposal-verify", args=[proposal.pk]), {}),
        (reverse("csr:agreement-refresh", args=[proposal.pk]), {}),
        (reverse("csr:refusal-acknowledge", args=[refusal_pk]), {"note": ""}),
        (reverse("csr:cycle-reopen", args=[w.cycle.pk, w.company.pk]), {"until": "2030-01-01T10:00", "note": "x"}),
    ]
    for url, data in writes:
        assert kukar.post(url, data).status_code == 404, url
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.ACTIVE
    assert not CycleReopen.objects.exists()


@pytest.mark.parametrize("role", [Role.PARTNER, Role.OPD_OFFICER, Role.LEADERSHIP])
def test_partner_opd_and_leadership_get_403(world: World, agreed: Any, role: str) -> None:
    w = world
    proposal, allocation, refusal_pk = agreed
    user = w.company_user if role == Role.PARTNER else f.user_with_role(role)
    client = client_for(user)
    urls = {"cycle-list": reverse("csr:cycle-list"), "cycle-new": reverse("csr:cycle-new")}
    urls.update(_urls(w, proposal, allocation, refusal_pk))
    for name, url in urls.items():
        assert client.get(url).status_code == 403, name
    assert client.post(reverse("csr:allocation-release", args=[allocation.pk]), {"reason": "x"}).status_code == 403
    assert 'data-testid="nav-csr"' not in client.get(reverse("home")).content.decode()


def test_anonymous_is_sent_to_login(world: World) -> None:
    response = Client().get(reverse("csr:cycle-list"))
    assert response.status_code == 302 and "/akun/masuk/" in response["Location"]
