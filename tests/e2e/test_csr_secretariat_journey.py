"""Browser journey of the CSR secretariat: it logs in, allocates the desil-1 households of a company's operating
area to it (the count is shown before allocating), looks at the allocation map, opens the company's submitted
proposal, records the joint field verification per target, verifies, agrees with the PKS data and downloads the
agreement PDF (its pages are rendered to PNG next to the screenshots). Screenshots: test-results/csr-secr-*.png."""

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
from csr.models import Agreement, Allocation, AllocationSource, AllocationStatus, Proposal, ProposalStatus
from households.choices import Relationship
from programs.models import AssistanceKind
from reports.models import RegionBoundarySet
from reports.services import gap_recompute_now
from tests import factories as f
from tests.e2e.test_journeys import login
from tests.factories import PASSWORD
from tkpk.models import Region, RegionLevel
from tkpk.scoping import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BLUMAH = "3324012001"
TARGETS = ("Sutrisno Alfa", "Marni Alfa", "Wagiman Alfa")


def shoot(page: Page, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / f"csr-secr-{name}.png"), full_page=True)


@pytest.fixture
def world(settings: Any, tmp_path: Path) -> dict[str, Any]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    blumah = f.desa(BLUMAH)
    outside = Region.objects.filter(level=RegionLevel.DESA, code__startswith="332402").order_by("code")[0]
    households = {}
    niks = {}
    for name in TARGETS:
        households[name] = f.HouseholdFactory(desa=blumah, head_name=name, desil=1)
        niks[name] = f.PersonFactory(
            household=households[name], name=name, relationship=Relationship.HEAD, birth_date=dt.date(1970, 3, 9)
        ).nik
    f.HouseholdFactory(desa=blumah, head_name="Paijo Desil Dua", desil=2)
    f.HouseholdFactory(desa=outside, head_name="Kasmirah Luar Area", desil=1)
    cycle = f.CsrCycleFactory(name="Musrenbang CSR 2027", proposal_deadline=timezone.now() + dt.timedelta(days=10))
    gap_recompute_now(year=cycle.year, region_code="3324")
    secretariat = f.user_with_role(Role.SECRETARIAT, username="sekretariat-csr", first_name="Sari")
    secretariat.set_password(PASSWORD)  # the factory's cached hash may come from another hasher setting
    secretariat.save()
    company_user = f.user_with_role(Role.PARTNER, username="mitra-sawit")
    company = company_user.test_organization
    company.name = "PT Sawit Makmur"
    company.save()
    company.area.set([Region.objects.get(code=BLUMAH[:6])])
    # A schematic boundary set of Kendal's kecamatan (a 5 × 4 grid) so the map draws its choropleth.
    kecamatan = list(Region.objects.filter(parent_id="3324").order_by("code").values_list("code", flat=True))
    features = []
    for index, code in enumerate(kecamatan):
        x, y = 110.0 + (index % 5) * 0.1, -6.9 - (index // 5) * 0.1
        ring = [[x, y], [x + 0.1, y], [x + 0.1, y - 0.1], [x, y - 0.1], [x, y]]
        features.append(
            {"type": "Feature", "properties": {"kode": code}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
        )
    RegionBoundarySet.objects.create(
        region_id="3324",
        level=3,
        name="Skema kecamatan Kendal",
        geojson={"type": "FeatureCollection", "features": features},
        feature_count=len(features),
        is_schematic=True,
    )
    kind = f.reference(AssistanceKind, "pangan")
    kind.name = "Bantuan pangan"
    kind.save()
    return {
        "cycle": cycle,
        "secretariat": secretariat,
        "company": company,
        "company_user": company_user,
        "kind": kind,
        "households": households,
        "niks": niks,
    }


def test_secretariat_allocates_verifies_agrees_and_downloads_the_pks(
    page: Page, live_server: Any, world: dict[str, Any], screenshot_dir: Path, page_problems: Any
) -> None:
    cycle, company, kind = world["cycle"], world["company"], world["kind"]
    login(page, live_server.url, "sekretariat-csr", PASSWORD)
    page.get_by_test_id("nav-csr").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Siklus CSR")
    expect(page.get_by_test_id("cycle-row")).to_contain_text("Musrenbang CSR 2027")
    shoot(page, screenshot_dir, "1-cycles")

    # Allocation: partner (the page reloads with its operating area), need, filters; the count is live.
    page.get_by_test_id("cycle-row").get_by_role("link", name="Alokasi").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alokasi sasaran")
    page.locator("select[name=organization]").select_option(label="PT Sawit Makmur")
    expect(page.get_by_test_id("operating-area")).to_contain_text("Plantungan (33.24.01)")
    page.locator("select[name=assistance_kind]").select_option(label="Bantuan pangan")
    expect(page.get_by_test_id("candidate-count")).to_have_text("3")
    expect(page.get_by_test_id("candidate-row")).to_have_count(3)
    expect(page.get_by_test_id("candidate-sample")).not_to_contain_text("Kasmirah")
    page.locator("select[name=desil]").select_option("")
    expect(page.get_by_test_id("candidate-count")).to_have_text("4")
    page.locator("select[name=desil]").select_option("1")
    expect(page.get_by_test_id("candidate-count")).to_have_text("3")
    shoot(page, screenshot_dir, "2-allocate-count")
    page.get_by_test_id("allocate-submit").click()
    expect(page.get_by_test_id("allocate-result")).to_contain_text("3 keluarga dialokasikan ke PT Sawit Makmur")
    expect(page.get_by_test_id("candidate-count")).to_have_text("0")
    shoot(page, screenshot_dir, "3-allocate-result")
    allocations = Allocation.objects.filter(cycle=cycle, organization=company, status=AllocationStatus.ACTIVE)
    assert sorted(a.household.head_name for a in allocations) == sorted(TARGETS)
    assert {a.source for a in allocations} == {AllocationSource.GAP_LIST}

    page.get_by_role("link", name="Peta alokasi").click()
    expect(page.get_by_test_id("map-allocated")).to_have_text("3")
    expect(page.get_by_test_id("map-unallocated")).to_have_text("1")
    expect(page.locator("#gap-map path.leaflet-interactive")).to_have_count(20)
    expect(page.locator("#gap-map-legend")).to_contain_text("Sasaran belum dialokasikan")
    shoot(page, screenshot_dir, "4-map")

    # The company proposes (services) and submits.
    company_user, households = world["company_user"], world["households"]
    proposal = f.ProposalFactory(organization=company, cycle=cycle, title="Sembako Sehat Blumah", assistance_kind=kind)
    services.proposal_update(actor=company_user, proposal=proposal, household_ids=[households[n].pk for n in TARGETS])
    services.proposal_transition(actor=company_user, proposal=proposal, action="submit")

    page.get_by_role("link", name="Usulan").first.click()
    expect(page.get_by_test_id("review-row")).to_contain_text("Sembako Sehat Blumah")
    shoot(page, screenshot_dir, "5-review-queue")
    page.get_by_role("link", name="Sembako Sehat Blumah").click()
    expect(page.get_by_test_id("proposal-status")).to_have_text("Diajukan")
    expect(page.get_by_test_id("target-row")).to_have_count(3)
    for nik in world["niks"].values():
        expect(page.get_by_test_id("target-table")).not_to_contain_text(nik)
    targets = {t.household.head_name: t for t in proposal.targets.select_related("household")}
    page.locator(f"select[name=result-{targets['Sutrisno Alfa'].pk}]").select_option("eligible")
    page.locator(f"select[name=result-{targets['Marni Alfa'].pk}]").select_option("eligible")
    page.locator(f"select[name=result-{targets['Wagiman Alfa'].pk}]").select_option("moved")
    page.locator(f"input[name=note-{targets['Wagiman Alfa'].pk}]").fill("Pindah ke Kota Semarang")
    shoot(page, screenshot_dir, "6-verification-form")
    page.get_by_test_id("verify-save").click()
    expect(page.get_by_role("alert").first).to_contain_text("Hasil verifikasi 3 sasaran disimpan.")
    moved = Allocation.objects.get(household=households["Wagiman Alfa"], organization=company)
    assert moved.status == AllocationStatus.RELEASED

    page.get_by_test_id("action-verify").get_by_role("button").click()
    expect(page.get_by_test_id("proposal-status")).to_have_text("Terverifikasi")
    agree = page.get_by_test_id("agree-form")
    agree.get_by_label("Nomor PKS").fill("PKS/017/BAPPEDA/2026")
    agree.get_by_label("Tanggal penandatanganan").fill("2026-12-10")
    agree.get_by_label("Tempat penandatanganan").fill("Kendal")
    agree.get_by_label("Penandatangan pemerintah daerah").fill("Ir. Bambang Wibowo, Kepala Bappeda")
    agree.get_by_label("Penandatangan mitra").fill("Rina Kusuma, Direktur PT Sawit Makmur")
    shoot(page, screenshot_dir, "7-agree-form")
    page.get_by_test_id("agree-submit").click()
    expect(page.get_by_test_id("proposal-status")).to_have_text("Disepakati (PKS)")
    expect(page.get_by_test_id("agreement-number")).to_have_text("PKS/017/BAPPEDA/2026")
    shoot(page, screenshot_dir, "8-agreed")
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.AGREED

    with page.expect_download() as download:
        page.get_by_test_id("agreement-pdf").click()
    target = screenshot_dir / "csr-secr-pks.pdf"
    download.value.save_as(target)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(target).pages).split())
    assert "PKS/017/BAPPEDA/2026" in text
    assert "Sutrisno Alfa" in text and "Marni Alfa" in text and "Wagiman Alfa" not in text
    for nik in world["niks"].values():
        assert nik not in text
    assert Agreement.objects.get(proposal=proposal).pdf
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", str(target), str(screenshot_dir / "csr-secr-pks")],
            check=True,
        )
    # A download aborts its navigation request: that is not a failure.
    page_problems.failed_requests = [r for r in page_problems.failed_requests if "pks.pdf" not in r]
    page_problems.assert_clean()
