"""Gap dashboard journey in a real browser: the secretariat opens the dashboard (KPI cards, schematic map and
ranked table), clicks a kecamatan row, then a desa row, and reaches that desa's uncovered Desil 1 households;
the recompute button shows its waiting run. Screenshots: /tmp/shots/dashboard_*.png (and test-results/)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from households.choices import HouseholdStatus
from households.models import Household
from programs.models import EntryChannel, Intervention, InterventionStatus
from programs.realisation import program_realisation_refresh
from reports.demo import demo_gap_seed
from reports.models import GapRun, GapRunStatus, GapSummary
from reports.services import gap_recompute_now
from tests.e2e.conftest import PageProblems
from tests.e2e.test_journeys import DESA, OTHER_DESA, login, make_user
from tests.e2e.test_program_journey import make_program
from tkpk.models import OrganizationKind
from tkpk.regions import regions_load
from tkpk.scoping import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

YEAR = dt.date.today().year
SHOTS = Path("/tmp/shots")


def shoot(page: Page, directory: Path, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"dashboard_{name}.png"), full_page=True)
    page.screenshot(path=str(directory / f"e2e-dashboard-{name}.png"), full_page=True)


@pytest.fixture
def world() -> dict[str, Any]:
    regions_load(code="33.24")
    secretariat = make_user("sekretariat", role=Role.SECRETARIAT, kind=OrganizationKind.SECRETARIAT, is_staff=True)
    officer = make_user("petugas", role=Role.OPD_OFFICER, kind=OrganizationKind.OPD)
    program = make_program(officer.test_organization, "pangan-1", "Bantuan Pangan")
    homes = [
        Household.objects.create(
            head_name=f"Keluarga {n}",
            no_kk=f"33240109031500{n:02d}",
            desa_id=desa,
            desil=desil,
            status=HouseholdStatus.ACTIVE,
        )
        for n, (desa, desil) in enumerate([(DESA, 1), (DESA, 1), (DESA, 1), (DESA, 2), (OTHER_DESA, 1)], start=1)
    ]
    Intervention.objects.create(
        program=program, household=homes[0], delivered_on=dt.date(YEAR, 1, 10), status=InterventionStatus.DELIVERED,
        channel=EntryChannel.FORM, value=500_000, quantity=1,
    )  # fmt: skip
    program_realisation_refresh(program_ids=[program.pk])
    demo_gap_seed(region_code="33.24")  # schematic kecamatan map + desa maps of 33.24.01 and 33.24.02
    gap_recompute_now(year=YEAR, region_code="3324")
    return {"secretariat": secretariat}


def test_secretariat_drills_from_kabupaten_to_the_desa_household_list(
    page: Page, live_server: Any, world: dict[str, Any], screenshot_dir: Path, page_problems: PageProblems
) -> None:
    kendal = GapSummary.objects.get(year=YEAR, region_code="3324")
    assert (kendal.desil1, kendal.desil1_uncovered) == (4, 3)
    login(page, live_server.url, "sekretariat")
    page.get_by_role("link", name="Kesenjangan").click()
    expect(page.get_by_role("heading", name=f"Kesenjangan cakupan · Kabupaten Kendal {YEAR}")).to_be_visible()
    expect(page.get_by_test_id("kpi-desil1-uncovered")).to_have_text("3")
    expect(page.get_by_test_id("kpi-households")).to_have_text("5")
    expect(page.get_by_test_id("gap-freshness")).to_contain_text("Data per")
    expect(page.get_by_test_id("gap-map-schematic")).to_be_visible()
    expect(page.locator("#gap-map path.leaflet-interactive")).to_have_count(20)  # one polygon per kecamatan
    expect(page.locator("canvas#targets-chart")).to_be_visible()
    shoot(page, screenshot_dir, "1_kabupaten")

    page.locator('tr[data-code="332401"] td').last.click()  # the row itself, not its link
    expect(page).to_have_url(re.compile(rf"/kesenjangan/\?year={YEAR}&region=332401$"))
    expect(page.get_by_role("heading", name=f"Kesenjangan cakupan · Plantungan {YEAR}")).to_be_visible()
    expect(page.get_by_test_id("kpi-desil1-uncovered")).to_have_text("2")
    expect(page.get_by_test_id("gap-breadcrumbs")).to_contain_text("Kabupaten Kendal")
    expect(page.locator("#gap-map path.leaflet-interactive").first).to_be_visible()
    shoot(page, screenshot_dir, "2_kecamatan")

    page.locator(f'tr[data-code="{DESA}"] td').last.click()
    expect(page).to_have_url(re.compile(rf"/kesenjangan/keluarga/\?region={DESA}&year={YEAR}&uncovered=1&desil=1$"))
    expect(page.get_by_role("heading", name=re.compile(r"Daftar kesenjangan keluarga · Blumah"))).to_be_visible()
    expect(page.get_by_text("Keluarga 2")).to_be_visible()
    expect(page.get_by_text("Keluarga 1", exact=True)).to_have_count(0)  # covered: not in the gap list
    shoot(page, screenshot_dir, "3_desa_list")
    page_problems.assert_clean()


def test_recompute_button_shows_the_waiting_run(
    page: Page, live_server: Any, world: dict[str, Any], screenshot_dir: Path, page_problems: PageProblems
) -> None:
    login(page, live_server.url, "sekretariat")
    page.goto(f"{live_server.url}/kesenjangan/?year={YEAR}")
    expect(page.get_by_test_id("gap-run-status")).to_contain_text("Perhitungan terakhir selesai")
    page.get_by_test_id("gap-recompute").click()
    pending = page.get_by_test_id("gap-run-pending").or_(page.get_by_test_id("gap-run-finished"))
    expect(pending.first).to_be_visible()
    shoot(page, screenshot_dir, "4_recompute")
    runs = GapRun.objects.filter(trigger="manual", region_code="3324", year=YEAR)
    assert runs.count() == 1
    assert runs.get().status in (GapRunStatus.QUEUED, GapRunStatus.RUNNING, GapRunStatus.DONE)
    page_problems.assert_clean()
