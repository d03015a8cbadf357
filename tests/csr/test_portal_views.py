"""The partner (company) CSR portal pages, /mitra-csr/: a company sees only its own allocation, proposals,
agreement and letter; NIK never in full (pages, .xlsx, PDFs); the deadline with days left; late submission
refused in Indonesian; form errors; scoped downloads (another company → 404); access logging."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from csr import services, views_portal
from csr.models import CycleReopen, Proposal, ProposalStatus, Refusal, VerificationResult
from households.choices import Relationship
from households.models import Household
from programs.models import AssistanceKind, Intervention, ProgramCluster, ProgramStrategy
from tests import factories as f
from tkpk.identifiers import mask_identifier
from tkpk.models import AccessAction, OrganizationKind, PersonalDataAccess
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

PORTAL = "/mitra-csr/"


@dataclass
class Portal:
    secretariat: Any
    user_a: Any
    user_b: Any
    cycle: Any
    kind: AssistanceKind
    other_kind: AssistanceKind
    households_a: list[Household]
    households_b: list[Household]
    niks: dict[int, str]

    @property
    def org_a(self) -> Any:
        return self.user_a.test_organization

    @property
    def org_b(self) -> Any:
        return self.user_b.test_organization

    def client(self, user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client


def _household(name: str, niks: dict[int, str]) -> Household:
    household = f.HouseholdFactory(head_name=name)
    head = f.PersonFactory(household=household, name=name, relationship=Relationship.HEAD)
    niks[household.pk] = head.nik
    return household


@pytest.fixture
def portal(settings: Any, tmp_path: Path) -> Portal:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    secretariat = f.user_with_role(Role.SECRETARIAT)
    user_a = f.user_with_role(Role.PARTNER)
    user_b = f.user_with_role(Role.PARTNER)
    cycle = f.CsrCycleFactory(proposal_deadline=timezone.now() + dt.timedelta(days=14))
    kind = f.reference(AssistanceKind, "pangan")
    other_kind = f.reference(AssistanceKind, "rtlh")
    f.reference(ProgramCluster, "klaster-1")
    f.reference(ProgramStrategy, "kurangi-beban")
    niks: dict[int, str] = {}
    households_a = [_household(name, niks) for name in ("Sutrisno Alfa", "Marni Alfa", "Wagiman Alfa")]
    households_b = [_household(name, niks) for name in ("Paijo Beta", "Tukiyem Beta")]
    services.allocations_create(
        actor=secretariat,
        cycle=cycle,
        organization=user_a.test_organization,
        assistance_kind=kind,
        household_ids=[h.pk for h in households_a[:2]],
    )
    services.allocations_create(
        actor=secretariat,
        cycle=cycle,
        organization=user_a.test_organization,
        assistance_kind=other_kind,
        household_ids=[households_a[2].pk],
    )
    services.allocations_create(
        actor=secretariat,
        cycle=cycle,
        organization=user_b.test_organization,
        assistance_kind=kind,
        household_ids=[h.pk for h in households_b],
    )
    return Portal(secretariat, user_a, user_b, cycle, kind, other_kind, households_a, households_b, niks)


def _assert_no_full_nik(content: str, portal: Portal) -> None:
    for nik in portal.niks.values():
        assert nik not in content


def _proposal_post(portal: Portal, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "org": portal.org_a.pk,
        "cycle": portal.cycle.pk,
        "title": "Paket sembako bulanan",
        "description": "Sembako untuk keluarga desil 1",
        "assistance_kind": portal.kind.pk,
        "cluster": ProgramCluster.objects.get(code="klaster-1").pk,
        "strategy": ProgramStrategy.objects.get(code="kurangi-beban").pk,
        "budget": "25000000",
        "starts_on": dt.date.today().isoformat(),
        "ends_on": (dt.date.today() + dt.timedelta(days=60)).isoformat(),
        "contact_name": "Rina Mitra",
        "contact_phone": "081234567890",
        "contact_email": "rina@mitra.co.id",
        "household_ids": [str(h.pk) for h in portal.households_a[:2]],
        "tambahan-TOTAL_FORMS": "2",
        "tambahan-INITIAL_FORMS": "0",
        "tambahan-MIN_NUM_FORMS": "0",
        "tambahan-MAX_NUM_FORMS": "50",
    }
    data.update(overrides)
    return data


def _submitted(portal: Portal) -> Proposal:
    proposal = f.ProposalFactory(organization=portal.org_a, cycle=portal.cycle, assistance_kind=portal.kind)
    services.proposal_update(
        actor=portal.user_a, proposal=proposal, household_ids=[h.pk for h in portal.households_a[:2]]
    )
    return services.proposal_transition(actor=portal.user_a, proposal=proposal, action="submit")


def _agreed(portal: Portal) -> Proposal:
    proposal = _submitted(portal)
    first, second = proposal.targets.order_by("household__head_name")
    services.target_verify(actor=portal.secretariat, target=first, result=VerificationResult.ELIGIBLE)
    services.target_verify(actor=portal.secretariat, target=second, result=VerificationResult.MOVED, note="pindah")
    services.proposal_transition(actor=portal.secretariat, proposal=proposal, action="verify")
    return services.proposal_transition(
        actor=portal.secretariat,
        proposal=proposal,
        action="agree",
        number="PKS/CSR/007/2026",
        signed_on=dt.date.today(),
        government_signatory="Kepala Bappeda",
        company_signatory="Direktur PT Mitra",
    )


# ------------------------------------------------------------------------------------------------- access


def test_portal_needs_the_partner_capability(portal: Portal, client: Client) -> None:
    response = client.get(PORTAL)
    assert response.status_code == 302 and "/akun/masuk/" in response["Location"]
    assert portal.client(portal.secretariat).get(PORTAL).status_code == 403
    leadership = f.user_with_role(Role.LEADERSHIP)
    assert portal.client(leadership).get(PORTAL).status_code == 403


def test_nav_link_only_for_partners(portal: Portal) -> None:
    page = portal.client(portal.user_a).get(reverse("home")).content.decode()
    assert 'data-testid="nav-csr-portal"' in page
    page = portal.client(portal.secretariat).get(reverse("home")).content.decode()
    assert 'data-testid="nav-csr-portal"' not in page


# --------------------------------------------------------------------------------------------------- home


def test_home_shows_only_its_own_allocation_masked_and_logged(portal: Portal) -> None:
    response = portal.client(portal.user_a).get(PORTAL)
    assert response.status_code == 200
    page = response.content.decode()
    for household in portal.households_a:
        assert household.head_name in page
        assert mask_identifier(portal.niks[household.pk]) in page
    for household in portal.households_b:
        assert household.head_name not in page
    _assert_no_full_nik(page, portal)
    assert page.count('data-testid="bnba-row"') == 3
    assert "Batas pengajuan:" in page and "(sisa 14 hari)" in page
    log = PersonalDataAccess.objects.get(user=portal.user_a, object_type="csr.allocation")
    assert log.action == AccessAction.VIEW_HOUSEHOLD
    assert sorted(log.object_ids) == sorted(h.pk for h in portal.households_a)
    assert log.region_code == portal.cycle.region_id


def test_home_pages_the_allocation(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views_portal, "BNBA_PAGE_SIZE", 2)
    client = portal.client(portal.user_a)
    first = client.get(PORTAL).content.decode()
    second = client.get(PORTAL, {"page": 2}).content.decode()
    assert first.count('data-testid="bnba-row"') == 2
    assert second.count('data-testid="bnba-row"') == 1
    assert "Halaman 1 dari 2 (3 baris)" in first
    shown = {h.head_name for h in portal.households_a if h.head_name in first or h.head_name in second}
    assert shown == {h.head_name for h in portal.households_a}
    logs = PersonalDataAccess.objects.filter(user=portal.user_a, object_type="csr.allocation")
    assert sorted(log.record_count for log in logs) == [1, 2]


def test_deadline_texts(portal: Portal) -> None:
    client = portal.client(portal.user_a)
    portal.cycle.proposal_deadline = timezone.now() - dt.timedelta(days=2)
    portal.cycle.save()
    page = client.get(PORTAL).content.decode()
    assert "(sudah lewat)" in page
    assert 'data-testid="proposal-new"' not in page
    CycleReopen.objects.create(
        cycle=portal.cycle,
        organization=portal.org_a,
        until=timezone.now() + dt.timedelta(days=3),
        note="Data baru diterima",
        created_by=portal.secretariat,
    )
    page = client.get(PORTAL).content.decode()
    assert "Pengajuan dibuka kembali sampai" in page and "(sisa 3 hari)" in page
    # Company B is not reopened.
    assert "(sudah lewat)" in portal.client(portal.user_b).get(PORTAL).content.decode()


def test_other_organization_or_cycle_parameter_is_404(portal: Portal) -> None:
    client = portal.client(portal.user_a)
    assert client.get(PORTAL, {"org": portal.org_b.pk}).status_code == 404
    kukar_cycle = f.CsrCycleFactory(region=f.region("6403"))
    assert client.get(PORTAL, {"cycle": kukar_cycle.pk}).status_code == 404
    assert client.get(reverse("csr_portal:allocation-xlsx"), {"org": portal.org_b.pk}).status_code == 404


def test_allocation_xlsx_is_masked_own_rows_and_logged(portal: Portal) -> None:
    response = portal.client(portal.user_a).get(reverse("csr_portal:allocation-xlsx"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Nomor", "Nama kepala keluarga", "NIK (disamarkan)")
    assert sorted(r[1] for r in rows[1:]) == sorted(h.head_name for h in portal.households_a)
    cells = " ".join(str(value) for row in rows for value in row if value is not None)
    _assert_no_full_nik(cells, portal)
    assert mask_identifier(portal.niks[portal.households_a[0].pk]) in cells
    assert "Beta" not in cells
    log = PersonalDataAccess.objects.get(user=portal.user_a, action=AccessAction.EXPORT)
    assert log.object_type == "csr.allocation" and log.record_count == 3


# ---------------------------------------------------------------------------------------------- proposals


def test_new_proposal_form_lists_only_its_allocation(portal: Portal) -> None:
    response = portal.client(portal.user_a).get(reverse("csr_portal:proposal-new"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('type="checkbox" name="household_ids"') == 3
    assert "Paijo Beta" not in page
    _assert_no_full_nik(page, portal)
    assert f"{portal.kind.name} (2)" in page and f"{portal.other_kind.name} (1)" in page


def test_create_proposal_with_targets_and_additional_family(portal: Portal) -> None:
    desa = portal.households_a[0].desa
    data = _proposal_post(
        portal,
        **{
            "tambahan-0-name": "Sarmini",
            "tambahan-0-address": "Dusun Krajan RT 01",
            "tambahan-0-desa": desa.code,
            "tambahan-0-reason": "Janda lansia belum terdata di P3KE",
        },
    )
    response = portal.client(portal.user_a).post(reverse("csr_portal:proposal-new"), data)
    proposal = Proposal.objects.get(organization=portal.org_a)
    assert response.status_code == 302 and response["Location"] == f"{PORTAL}usulan/{proposal.pk}/"
    assert proposal.status == ProposalStatus.DRAFT and proposal.budget == 25_000_000
    targets = list(proposal.targets.order_by("is_additional", "household_id"))
    assert [t.household_id for t in targets if not t.is_additional] == sorted(h.pk for h in portal.households_a[:2])
    additional = [t for t in targets if t.is_additional]
    assert len(additional) == 1 and additional[0].proposed_name == "Sarmini" and additional[0].proposed_desa == desa


def test_all_allocations_of_a_need_at_once(portal: Portal) -> None:
    data = _proposal_post(portal, household_ids=[], all_needs=[str(portal.other_kind.pk)])
    portal.client(portal.user_a).post(reverse("csr_portal:proposal-new"), data)
    proposal = Proposal.objects.get(organization=portal.org_a)
    assert list(proposal.targets.values_list("household_id", flat=True)) == [portal.households_a[2].pk]


def test_proposal_form_errors(portal: Portal) -> None:
    client = portal.client(portal.user_a)
    url = reverse("csr_portal:proposal-new")
    late_end = _proposal_post(portal, ends_on=(dt.date.today() - dt.timedelta(days=1)).isoformat())
    page = client.post(url, late_end).content.decode()
    assert "Jadwal selesai tidak boleh sebelum jadwal mulai." in page
    # Another company's household cannot be posted as a target.
    foreign = _proposal_post(portal, household_ids=[str(portal.households_b[0].pk)])
    response = client.post(url, foreign)
    assert response.status_code == 200 and 'data-testid="proposal-form"' in response.content.decode()
    assert response.context["form"].errors["household_ids"]
    # An additional family without a desa.
    incomplete = _proposal_post(
        portal, **{"tambahan-0-name": "Sarmini", "tambahan-0-address": "Krajan", "tambahan-0-reason": "Belum terdata"}
    )
    response = client.post(url, incomplete)
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors["desa"] == ["Wajib diisi untuk sasaran tambahan."]
    assert not Proposal.objects.exists()


def test_service_refusal_is_shown_on_the_form(portal: Portal) -> None:
    """A DomainError of the service (here: the organization is an agency, not a partner) appears on the form."""
    agency_partner = f.user_with_role(Role.PARTNER, org_kind=OrganizationKind.OPD)
    data = _proposal_post(portal, org=agency_partner.test_organization.pk, household_ids=[])
    response = portal.client(agency_partner).post(reverse("csr_portal:proposal-new"), data)
    assert response.status_code == 200
    assert "Organisasi ini bukan mitra (perusahaan/lembaga)." in response.content.decode()
    assert not Proposal.objects.exists()


def test_edit_and_submit_then_late_submission_refused(portal: Portal) -> None:
    client = portal.client(portal.user_a)
    proposal = f.ProposalFactory(organization=portal.org_a, cycle=portal.cycle)
    edit = reverse("csr_portal:proposal-edit", args=[proposal.pk])
    page = client.get(edit).content.decode()
    assert proposal.title in page
    client.post(edit, _proposal_post(portal, title="Judul baru", household_ids=[str(portal.households_a[0].pk)]))
    proposal.refresh_from_db()
    assert proposal.title == "Judul baru"
    assert list(proposal.targets.values_list("household_id", flat=True)) == [portal.households_a[0].pk]

    detail = reverse("csr_portal:proposal-detail", args=[proposal.pk])
    page = client.get(detail).content.decode()
    assert 'data-testid="action-submit"' in page and 'data-testid="action-verify"' not in page
    portal.cycle.proposal_deadline = timezone.now() - dt.timedelta(hours=1)
    portal.cycle.save()
    response = client.post(reverse("csr_portal:proposal-action", args=[proposal.pk]), {"action": "submit"}, follow=True)
    page = response.content.decode()
    assert "sudah lewat" in page and "Hubungi sekretariat TKPK" in page
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DRAFT

    portal.cycle.proposal_deadline = timezone.now() + dt.timedelta(days=1)
    portal.cycle.save()
    response = client.post(reverse("csr_portal:proposal-action", args=[proposal.pk]), {"action": "submit"}, follow=True)
    page = response.content.decode()
    assert "Status usulan sekarang: Diajukan." in page
    assert 'data-testid="proposal-status">Diajukan<' in page
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.SUBMITTED
    assert client.get(edit).status_code == 404  # no longer editable
    assert PersonalDataAccess.objects.filter(user=portal.user_a, object_type="csr.proposal_target").exists()


def test_partner_cannot_take_secretariat_steps_or_withdraw_without_reason(portal: Portal) -> None:
    proposal = _submitted(portal)
    client = portal.client(portal.user_a)
    action = reverse("csr_portal:proposal-action", args=[proposal.pk])
    page = client.post(action, {"action": "verify"}, follow=True).content.decode()
    assert "Tindakan ini dilakukan oleh sekretariat TKPK" in page
    page = client.post(action, {"action": "withdraw"}, follow=True).content.decode()
    assert "Tuliskan alasan penarikan usulan." in page
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.SUBMITTED
    client.post(action, {"action": "withdraw", "note": "Anggaran dialihkan"})
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.WITHDRAWN


def test_another_company_never_reaches_a_proposal(portal: Portal) -> None:
    proposal = _agreed(portal)
    refusal = services.refusal_submit(
        actor=portal.user_b,
        organization=portal.org_b,
        cycle=portal.cycle,
        reason="Anggaran CSR tahun ini sudah terserap program lain.",
        signatory_name="Andi",
        signatory_position="Direktur",
    )
    a, b = portal.client(portal.user_a), portal.client(portal.user_b)
    for name in ("proposal-detail", "proposal-edit", "agreement-pdf", "delivery-new"):
        assert b.get(reverse(f"csr_portal:{name}", args=[proposal.pk])).status_code == 404, name
    assert b.post(reverse("csr_portal:proposal-action", args=[proposal.pk]), {"action": "withdraw"}).status_code == 404
    for name in ("refusal-detail", "refusal-pdf"):
        assert a.get(reverse(f"csr_portal:{name}", args=[refusal.pk])).status_code == 404, name
    home_b = b.get(PORTAL).content.decode()
    assert proposal.title not in home_b and "Sutrisno Alfa" not in home_b


def test_agreement_pdf_download_scoped_masked_and_logged(portal: Portal) -> None:
    proposal = _agreed(portal)
    client = portal.client(portal.user_a)
    page = client.get(reverse("csr_portal:proposal-detail", args=[proposal.pk])).content.decode()
    assert 'data-testid="agreement-pdf"' in page and "PKS/CSR/007/2026" in page
    response = client.get(reverse("csr_portal:agreement-pdf", args=[proposal.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    eligible = min(portal.households_a[:2], key=lambda h: h.head_name)
    assert eligible.head_name in text
    _assert_no_full_nik(text, portal)
    log = PersonalDataAccess.objects.get(user=portal.user_a, object_type="csr.agreement")
    assert log.action == AccessAction.EXPORT and log.object_ids == [eligible.pk]


def test_delivery_report(portal: Portal) -> None:
    proposal = _agreed(portal)
    client = portal.client(portal.user_a)
    eligible = proposal.targets.get(verification=VerificationResult.ELIGIBLE).household
    moved = proposal.targets.get(verification=VerificationResult.MOVED).household
    url = reverse("csr_portal:delivery-new", args=[proposal.pk])
    page = client.get(url).content.decode()
    assert eligible.head_name in page and moved.head_name not in page
    response = client.post(url, {"household": moved.pk, "delivered_on": dt.date.today().isoformat(), "quantity": "1"})
    assert response.status_code == 200 and response.context["form"].errors["household"]
    response = client.post(url, {"household": eligible.pk, "delivered_on": "", "quantity": "1"})
    assert response.context["form"].errors["delivered_on"]
    response = client.post(
        url,
        {"household": eligible.pk, "delivered_on": dt.date.today().isoformat(), "value": "350000", "quantity": "1"},
    )
    assert response.status_code == 302
    delivery = Intervention.objects.get(program=proposal.program)
    assert delivery.household_id == eligible.pk and delivery.value == 350_000 and delivery.channel == "csr"
    page = client.get(reverse("csr_portal:proposal-detail", args=[proposal.pk])).content.decode()
    assert page.count('data-testid="delivery-row"') == 1
    assert f"/program/impor/{proposal.program_id}/unggah/" in page
    # The partner may open the spreadsheet upload of its CSR program.
    assert client.get(reverse("program_imports:upload", args=[proposal.program_id])).status_code == 200
    # Implement, then report without text (refused) and with it.
    action = reverse("csr_portal:proposal-action", args=[proposal.pk])
    client.post(action, {"action": "implement"})
    page = client.post(action, {"action": "report", "final_report": " "}, follow=True).content.decode()
    assert "Tuliskan laporan akhir pelaksanaan program." in page
    client.post(action, {"action": "report", "final_report": "Sembako tersalur ke 1 keluarga."})
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.REPORTED and proposal.final_report.startswith("Sembako")


# ------------------------------------------------------------------------------------------------ refusals


def test_refusal_form_letter_and_download(portal: Portal) -> None:
    client = portal.client(portal.user_b)
    url = reverse("csr_portal:refusal-new")
    page = client.post(url, {"reason": "Tidak ada", "signatory_name": "Andi", "signatory_position": "Direktur"})
    assert "minimal 20 karakter" in page.content.decode()
    page = client.post(url, {"reason": "Anggaran CSR tahun ini sudah terserap.", "signatory_name": ""})
    assert page.context["form"].errors["signatory_name"]
    response = client.post(
        url,
        {
            "reason": "Anggaran CSR tahun ini sudah terserap program beasiswa.",
            "signatory_name": "Andi Wijaya",
            "signatory_position": "Direktur Utama",
        },
    )
    refusal = Refusal.objects.get(organization=portal.org_b)
    assert response.status_code == 302 and response["Location"] == reverse(
        "csr_portal:refusal-detail", args=[refusal.pk]
    )
    page = client.get(response["Location"]).content.decode()
    assert "beasiswa" in page and "Menunggu diterima sekretariat TKPK." in page
    assert client.get(url).status_code == 302  # one letter per cycle: the form leads to it
    pdf = client.get(reverse("csr_portal:refusal-pdf", args=[refusal.pk]))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    log = PersonalDataAccess.objects.get(user=portal.user_b, object_type="csr.refusal_letter")
    assert log.action == AccessAction.EXPORT and log.object_ids == [refusal.pk]
    services.refusal_acknowledge(actor=portal.secretariat, refusal=refusal, note="Diterima")
    page = client.get(reverse("csr_portal:refusal-detail", args=[refusal.pk])).content.decode()
    assert "Diterima sekretariat TKPK pada" in page
    home = client.get(PORTAL).content.decode()
    assert 'data-testid="refusal-card"' in home and 'data-testid="proposal-new"' not in home


def test_refusal_refused_while_a_proposal_is_active(portal: Portal) -> None:
    _submitted(portal)
    assert 'data-testid="refusal-new"' not in portal.client(portal.user_a).get(PORTAL).content.decode()
    response = portal.client(portal.user_a).post(
        reverse("csr_portal:refusal-new"),
        {"reason": "Kami berubah pikiran tentang program ini.", "signatory_name": "A", "signatory_position": "B"},
    )
    assert response.status_code == 200
    assert "tarik usulan itu lebih dahulu" in response.content.decode()
    assert not Refusal.objects.exists()


def test_superuser_without_partner_membership_sees_a_notice(portal: Portal) -> None:
    admin = f.UserFactory(is_superuser=True, is_staff=True)
    client = portal.client(admin)
    page = client.get(PORTAL).content.decode()
    assert 'data-testid="portal-no-org"' in page and "Sutrisno Alfa" not in page
    assert client.get(reverse("csr_portal:proposal-new")).status_code == 404
    assert 'data-testid="nav-csr-portal"' not in page


def test_home_query_count_does_not_grow_with_the_page(
    portal: Portal, django_assert_max_num_queries: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    more = [_household(f"Tambahan {n}", portal.niks) for n in range(20)]
    services.allocations_create(
        actor=portal.secretariat,
        cycle=portal.cycle,
        organization=portal.org_a,
        assistance_kind=portal.kind,
        household_ids=[h.pk for h in more],
    )
    client = portal.client(portal.user_a)
    client.get(PORTAL)  # warm the session and caches
    with django_assert_max_num_queries(30):
        response = client.get(PORTAL)
    assert response.content.decode().count('data-testid="bnba-row"') == 23
