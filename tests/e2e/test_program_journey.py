"""Program journeys in a real browser: an OPD officer finds a Desil 1 household, sees what it already received,
logs a delivery (a wrong date first: the error appears beside the field) and sees "Program saya" go up; the
secretariat reads the overview; leadership reads realisation without names. Screenshots: test-results/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from households.choices import HouseholdStatus, NikStatus, Relationship, Sex
from households.models import Household, Person
from programs.models import (
    AssistanceKind,
    EntryChannel,
    Intervention,
    InterventionStatus,
    Program,
    ProgramCluster,
    ProgramStrategy,
)
from programs.realisation import program_realisation_refresh
from tests.e2e.test_journeys import DESA, HEAD_NAME, HEAD_NIK, HEAD_NIK_MASKED, OTHER_DESA, login, make_user, shoot
from tkpk.models import AccessAction, OrganizationKind, PersonalDataAccess
from tkpk.regions import regions_load
from tkpk.scoping import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TODAY = dt.date.today()
YEAR = TODAY.year


def reference(model: type[Any], code: str) -> Any:
    return model.objects.get_or_create(code=code, defaults={"name": code})[0]


def make_program(organization: Any, code: str, name: str, **over: Any) -> Program:
    attrs = {
        "organization": organization,
        "region_id": organization.region_id,
        "code": code,
        "name": name,
        "year": YEAR,
        "cluster": reference(ProgramCluster, "klaster-1"),
        "strategy": reference(ProgramStrategy, "kurangi-beban"),
        "assistance_kind": reference(AssistanceKind, "pangan"),
        "funding_source": "apbd",
        "budget": 100_000_000,
        "unit_value": 500_000,
        "target_households": 200,
        "starts_on": dt.date(YEAR, 1, 1),
        "ends_on": dt.date(YEAR, 12, 31),
    }
    attrs.update(over)
    return Program.objects.create(**attrs)


@pytest.fixture
def world() -> dict[str, Any]:
    regions_load(code="33.24")
    officer = make_user(
        "petugas", role=Role.OPD_OFFICER, kind=OrganizationKind.OPD, first_name="Ani", last_name="Dinsos"
    )  # fmt: skip
    officer.test_organization.name = "Dinas Sosial"
    officer.test_organization.save()
    baznas = make_user("baznas", role=Role.PARTNER, kind=OrganizationKind.BAZNAS).test_organization
    baznas.name = "BAZNAS Kendal"
    baznas.save()
    household = Household.objects.create(
        head_name=HEAD_NAME, no_kk="3324010903150001", address="Jl. Raya Blumah No. 12", rt="003", rw="002",
        desa_id=DESA, desil=1, status=HouseholdStatus.ACTIVE,
    )  # fmt: skip
    Person.objects.create(
        household=household, name=HEAD_NAME, nik=HEAD_NIK, nik_status=NikStatus.VALID, sex=Sex.FEMALE,
        relationship=Relationship.HEAD, birth_date=dt.date(1990, 1, 15),
    )  # fmt: skip
    Household.objects.create(head_name="Sutrisno", address="Dusun Sidomulyo", desa_id=DESA, desil=2)
    Household.objects.create(head_name="Siti Rahayu", address="Jl. Kauman 4", desa_id=OTHER_DESA, desil=3)
    program = make_program(officer.test_organization, "pangan-lansia", "Bantuan Pangan Lansia")
    make_program(
        officer.test_organization, "modal-usaha", "Modal Usaha Mikro", cluster=reference(ProgramCluster, "klaster-2"),
        strategy=reference(ProgramStrategy, "tingkatkan-pendapatan"), funding_source="apbn", budget=250_000_000,
        target_households=50,
    )  # fmt: skip
    rtlh = make_program(
        baznas, "rtlh-baznas", "Bedah Rumah BAZNAS", funding_source="baznas", target_households=20,
        assistance_kind=reference(AssistanceKind, "rtlh"),
    )  # fmt: skip
    Intervention.objects.create(
        program=rtlh, household=household, delivered_on=min(TODAY, dt.date(YEAR, 3, 10)), value=15_000_000,
        status=InterventionStatus.DELIVERED, channel=EntryChannel.CSR,
    )  # fmt: skip
    program_realisation_refresh(program_ids=[rtlh.pk])
    return {"officer": officer, "household": household, "program": program}


def test_officer_logs_a_delivery_and_sees_realisation_go_up(
    page: Page, live_server: Any, world: dict[str, Any], screenshot_dir: Path, page_problems: Any
) -> None:
    officer, household, program = world["officer"], world["household"], world["program"]
    login(page, live_server.url, officer.username)

    page.locator("nav.navbar").get_by_role("link", name="Program").click()
    expect(page.get_by_role("heading", level=1, name="Program saya")).to_be_visible()
    row = page.locator(f'tr[data-program="{program.code}"]')
    expect(row.get_by_test_id("reached")).to_have_text("0 / 200")
    expect(page.locator('tr[data-program="rtlh-baznas"]')).to_have_count(0)  # another organization's program
    shoot(page, screenshot_dir, "program-list-before")

    page.get_by_role("link", name="Catat penyaluran").click()
    expect(page.get_by_role("heading", level=1, name="Catat penyaluran")).to_be_visible()
    page.locator("#finder-q").fill("siti")
    results = page.get_by_test_id("finder-results")
    expect(results.locator("[data-household]")).to_have_count(2)
    expect(results).to_contain_text("Desil 1")
    results.locator(f'[data-household="{household.pk}"]').click()
    panel = page.get_by_test_id("household-panel")
    expect(panel.get_by_test_id("panel-head")).to_have_text(HEAD_NAME)
    expect(panel.get_by_test_id("panel-desil")).to_have_text("Desil 1")
    expect(panel.get_by_test_id("panel-deliveries")).to_contain_text("Bedah Rumah BAZNAS")
    expect(panel.get_by_test_id("panel-overlap")).to_be_visible()
    expect(panel).to_contain_text(HEAD_NIK_MASKED)
    expect(page.locator("body")).not_to_contain_text(HEAD_NIK)
    expect(page.get_by_test_id("finder-results")).to_have_count(0)
    assert PersonalDataAccess.objects.filter(
        user=officer, action=AccessAction.VIEW_HOUSEHOLD, object_ids=[household.pk]
    ).exists()

    # A date in the future is refused beside the date field; the chosen household stays.
    page.locator("#id_program").select_option(str(program.pk))
    page.locator("#id_delivered_on").fill((TODAY + dt.timedelta(days=3)).isoformat())
    page.locator("#id_value").fill("450000")
    page.get_by_test_id("log-save").click()
    expect(page.get_by_test_id("error-delivered_on")).to_be_visible()
    expect(page.get_by_test_id("household-panel").get_by_test_id("panel-head")).to_have_text(HEAD_NAME)
    assert not Intervention.objects.filter(program=program).exists()
    shoot(page, screenshot_dir, "program-log-error")

    page.locator("#id_delivered_on").fill(TODAY.isoformat())
    page.get_by_test_id("log-save").click()
    expect(page.get_by_test_id("program-name")).to_have_text(program.name)
    expect(page.get_by_role("alert").filter(has_text="tersimpan")).to_contain_text(HEAD_NAME)
    expect(page.get_by_test_id("program-reached")).to_have_text("1 / 200")
    expect(page.get_by_test_id("interventions")).to_contain_text(HEAD_NAME)
    expect(page.get_by_test_id("by-kecamatan")).to_contain_text("Plantungan")
    intervention = Intervention.objects.get(program=program)
    assert (intervention.household_id, intervention.value, intervention.entered_by_id) == (
        household.pk,
        450_000,
        officer.pk,
    )
    shoot(page, screenshot_dir, "program-detail")

    page.locator("nav.navbar").get_by_role("link", name="Program").click()
    expect(page.locator(f'tr[data-program="{program.code}"]').get_by_test_id("reached")).to_have_text("1 / 200")
    expect(page.get_by_test_id("total-reached")).to_have_text("1 / 250")
    shoot(page, screenshot_dir, "program-list-after")

    # Logging the same household again in this once-per-year program is refused, naming the record.
    page.goto(f"{live_server.url}/program/catat/?program={program.pk}&household={household.pk}")
    expect(page.get_by_test_id("household-panel")).to_contain_text("Bantuan Pangan Lansia")
    page.get_by_test_id("log-save").click()
    expect(page.get_by_test_id("error-household")).to_contain_text(f"#{intervention.pk}")
    assert Intervention.objects.filter(program=program).count() == 1
    page_problems.assert_clean()


def test_secretariat_overview_and_leadership_reads_without_names(
    page: Page, live_server: Any, world: dict[str, Any], screenshot_dir: Path, page_problems: Any
) -> None:
    program, household = world["program"], world["household"]
    Intervention.objects.create(
        program=program, household=household, delivered_on=TODAY, value=500_000,
        status=InterventionStatus.DELIVERED, channel=EntryChannel.FORM,
    )  # fmt: skip
    program_realisation_refresh(program_ids=[program.pk])  # what every write path does
    secretariat = make_user(
        "sekretariat", role=Role.SECRETARIAT, kind=OrganizationKind.SECRETARIAT, is_staff=True, first_name="Rina"
    )
    login(page, live_server.url, secretariat.username)
    page.locator("nav.navbar").get_by_role("link", name="Program").click()
    expect(page.get_by_role("heading", level=1, name="Program")).to_be_visible()
    expect(page.get_by_test_id("programs")).to_contain_text("Bedah Rumah BAZNAS")
    expect(page.get_by_test_id("programs")).to_contain_text("Dinas Sosial")
    shoot(page, screenshot_dir, "program-list-secretariat")
    page.get_by_role("link", name="Ringkasan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Ringkasan program {YEAR}")
    expect(page.get_by_test_id("overview-funding_source")).to_contain_text("BAZNAS")
    expect(page.get_by_test_id("overview-organization")).to_contain_text("Dinas Sosial")
    expect(page.get_by_test_id("overview-cluster").locator("tbody tr")).to_have_count(2)
    shoot(page, screenshot_dir, "program-overview")
    page.get_by_test_id("current-user").click()
    page.get_by_role("button", name="Keluar").click()

    leader = make_user("bupati", role=Role.LEADERSHIP, kind=OrganizationKind.SECRETARIAT, first_name="Bupati")
    login(page, live_server.url, leader.username)
    page.goto(f"{live_server.url}/program/{program.pk}/")
    expect(page.get_by_test_id("program-reached")).to_have_text("1 / 200")
    expect(page.locator("body")).not_to_contain_text(HEAD_NAME)
    expect(page.get_by_role("link", name="Catat penyaluran")).to_have_count(0)
    shoot(page, screenshot_dir, "program-detail-leadership")
    response = page.goto(f"{live_server.url}/program/catat/")
    assert response is not None and response.status == 403
    page_problems.assert_clean()
