"""Browser journey of the partner CSR portal: a company user logs in, sees its allocation (NIK masked) and the
deadline with days left, creates a proposal (targets of a whole desa at once, one additional family) and submits
it (status "Diajukan"); another company states in writing that it will not take part and downloads its letter
PDF (its pages are rendered to PNG next to the screenshots). Screenshots: test-results/csr-portal-*.png."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from csr import services
from csr.models import Proposal, ProposalStatus, Refusal
from households.choices import Relationship
from programs.models import AssistanceKind, ProgramCluster, ProgramStrategy
from tests import factories as f
from tests.e2e.test_journeys import login
from tests.factories import PASSWORD
from tkpk.identifiers import mask_identifier
from tkpk.models import AccessAction, PersonalDataAccess
from tkpk.scoping import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NAMES_A = ("Sutrisno Alfa", "Marni Alfa", "Wagiman Alfa")
NAME_B = "Paijo Beta"


def shoot(page: Page, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / f"csr-portal-{name}.png"), full_page=True)


@pytest.fixture
def world(settings: Any, tmp_path: Path) -> dict[str, Any]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    secretariat = f.user_with_role(Role.SECRETARIAT, username="sekretariat-csr")
    company_a = f.user_with_role(Role.PARTNER, username="mitra-sawit", first_name="Rina")
    company_b = f.user_with_role(Role.PARTNER, username="mitra-tambang", first_name="Andi")
    company_a.test_organization.name = "PT Sawit Makmur"
    company_a.test_organization.save()
    company_b.test_organization.name = "PT Tambang Jaya"
    company_b.test_organization.sector = "mining"
    company_b.test_organization.save()
    cycle = f.CsrCycleFactory(
        name="Musrenbang CSR 2027", proposal_deadline=timezone.now() + dt.timedelta(days=10, minutes=5)
    )
    kind = f.reference(AssistanceKind, "pangan")
    cluster = f.reference(ProgramCluster, "klaster-1")
    strategy = f.reference(ProgramStrategy, "kurangi-beban")
    niks: dict[str, str] = {}
    households = {}
    for name in (*NAMES_A, NAME_B):
        household = f.HouseholdFactory(head_name=name, desil=1)
        niks[name] = f.PersonFactory(household=household, name=name, relationship=Relationship.HEAD).nik
        households[name] = household
    services.allocations_create(
        actor=secretariat,
        cycle=cycle,
        organization=company_a.test_organization,
        assistance_kind=kind,
        household_ids=[households[n].pk for n in NAMES_A],
    )
    services.allocations_create(
        actor=secretariat,
        cycle=cycle,
        organization=company_b.test_organization,
        assistance_kind=kind,
        household_ids=[households[NAME_B].pk],
    )
    return {
        "a": company_a,
        "b": company_b,
        "cycle": cycle,
        "niks": niks,
        "households": households,
        "kind": kind,
        "cluster": cluster,
        "strategy": strategy,
    }


def test_company_proposes_and_another_refuses(
    page: Page, live_server: Any, world: dict[str, Any], screenshot_dir: Path, page_problems: Any
) -> None:
    niks = world["niks"]
    login(page, live_server.url, "mitra-sawit", PASSWORD)
    page.get_by_test_id("nav-csr-portal").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Portal CSR mitra")
    expect(page.get_by_test_id("deadline")).to_contain_text("Batas pengajuan:")
    expect(page.get_by_test_id("deadline")).to_contain_text("(sisa 10 hari)")
    expect(page.get_by_test_id("bnba-row")).to_have_count(3)
    table = page.get_by_test_id("bnba-table")
    expect(table).to_contain_text("Sutrisno Alfa")
    expect(table).to_contain_text(mask_identifier(niks["Sutrisno Alfa"]))
    content = page.content()
    assert NAME_B not in content
    assert all(nik not in content for nik in niks.values())
    shoot(page, screenshot_dir, "1-home")

    page.get_by_test_id("proposal-new").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Usulan baru")
    page.locator("#id_title").fill("Paket sembako keluarga desil 1")
    page.locator("#id_assistance_kind").select_option(value=str(world["kind"].pk))
    page.locator("#id_cluster").select_option(value=str(world["cluster"].pk))
    page.locator("#id_strategy").select_option(value=str(world["strategy"].pk))
    page.locator("#id_budget").fill("45000000")
    page.locator("#id_ends_on").fill((dt.date.today() + dt.timedelta(days=90)).isoformat())
    page.locator("#id_contact_name").fill("Rina Lestari")
    page.locator("[data-desa-toggle]").first.check()
    expect(page.locator("[data-pick-count]")).to_have_text("3")
    desa = world["households"]["Sutrisno Alfa"].desa
    page.locator("#id_tambahan-0-name").fill("Sarmini")
    page.locator("#id_tambahan-0-address").fill("Dusun Krajan RT 01 RW 02")
    page.locator("#id_tambahan-0-desa").select_option(value=desa.code)
    page.locator("#id_tambahan-0-reason").fill("Janda lansia belum terdata di P3KE")
    shoot(page, screenshot_dir, "2-proposal-form")
    page.get_by_test_id("proposal-save").click()

    expect(page.get_by_test_id("proposal-title")).to_have_text("Paket sembako keluarga desil 1")
    expect(page.get_by_test_id("proposal-status")).to_have_text("Draf")
    expect(page.get_by_test_id("target-row")).to_have_count(4)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("action-submit").click()
    expect(page.get_by_test_id("proposal-status")).to_have_text("Diajukan")
    expect(page.get_by_test_id("timeline")).to_contain_text("Diajukan")
    shoot(page, screenshot_dir, "3-proposal-submitted")
    proposal = Proposal.objects.get(organization=world["a"].test_organization)
    assert proposal.status == ProposalStatus.SUBMITTED and proposal.targets.count() == 4

    page.get_by_test_id("nav-csr-portal").click()
    expect(page.get_by_test_id("proposal-status")).to_have_text("Diajukan")
    page_problems.assert_clean()

    # The second company does not take part: its written reason becomes a letter.
    page.context.clear_cookies()
    login(page, live_server.url, "mitra-tambang", PASSWORD)
    page.get_by_test_id("nav-csr-portal").click()
    expect(page.get_by_test_id("bnba-row")).to_have_count(1)
    assert "Sutrisno Alfa" not in page.content()
    page.get_by_test_id("refusal-new").click()
    page.get_by_label("Alasan tidak berpartisipasi").fill("Terlalu singkat")
    page.get_by_label("Nama penanda tangan").fill("Andi Wijaya")
    page.get_by_label("Jabatan penanda tangan").fill("Direktur Utama")
    page.get_by_test_id("refusal-submit").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("minimal 20 karakter")
    page.get_by_label("Alasan tidak berpartisipasi").fill(
        "Anggaran CSR perusahaan tahun 2027 sudah dialokasikan seluruhnya untuk rehabilitasi lahan bekas tambang."
    )
    page.get_by_test_id("refusal-submit").click()
    expect(page.get_by_test_id("refusal-reason")).to_contain_text("rehabilitasi lahan bekas tambang")
    expect(page.get_by_test_id("acknowledgement")).to_contain_text("Menunggu diterima sekretariat TKPK")
    shoot(page, screenshot_dir, "4-refusal-letter")

    with page.expect_download() as download_info:
        page.get_by_test_id("refusal-pdf").click()
    target = screenshot_dir / "csr-portal-refusal.pdf"
    download_info.value.save_as(str(target))
    assert target.read_bytes().startswith(b"%PDF")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(target).pages).split())
    assert "PT Tambang Jaya" in text and "rehabilitasi lahan bekas tambang" in text
    refusal = Refusal.objects.get(organization=world["b"].test_organization)
    assert refusal.letter_number in text
    assert PersonalDataAccess.objects.filter(
        user=world["b"], object_type="csr.refusal_letter", action=AccessAction.EXPORT
    ).exists()
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", str(target), str(screenshot_dir / "csr-portal-refusal")],
            check=True,
        )
        assert list(screenshot_dir.glob("csr-portal-refusal*.png"))
