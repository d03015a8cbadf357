"""Browser journey: an OPD officer downloads the pre-filled template of a program, fills it offline with one bad
row, uploads it, sees that row reported in the preview and the result, and the good rows counted on the program
page. The preview and the run go through the import engine on the real Celery worker (``celery_worker``).
Screenshots: ``test-results/e2e-intervention-upload-*.png``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from households.choices import HouseholdStatus
from households.models import Household, HouseholdSourceLink, ImportFile, ImportJob, Snapshot
from programs.models import EntryChannel, Intervention
from tests.e2e.test_journeys import DESA, login, make_user, shoot
from tests.e2e.test_program_journey import make_program
from tests.factories import source
from tkpk.models import AccessAction, OrganizationKind, PersonalDataAccess
from tkpk.regions import regions_load
from tkpk.scoping import Role

pytestmark = [pytest.mark.e2e, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

TODAY = dt.date.today()
HEADS = ["Siti Aminah", "Budi Santoso", "Wati Lestari"]


@pytest.fixture
def world() -> Any:
    regions_load(code="33.24")
    officer = make_user("petugas-unggah", role=Role.OPD_OFFICER, kind=OrganizationKind.OPD, first_name="Ani")
    program = make_program(officer.test_organization, "sembako-kendal", "Bantuan Sembako Kendal", max_desil=2)
    snapshot = Snapshot.objects.create(source=source("p3ke"), label="P3KE uji", taken_on=TODAY, region_id="3324")
    for index, name in enumerate(HEADS):
        household = Household.objects.create(
            head_name=name, desa_id=DESA, desil=1, status=HouseholdStatus.ACTIVE, address="Jl. Raya Blumah"
        )
        HouseholdSourceLink.objects.create(
            household=household, source=snapshot.source, snapshot=snapshot, external_id=f"P3KE-{index + 1:04d}"
        )
    yield officer, program
    for import_file in ImportFile.objects.all():
        import_file.file.delete(save=False)


def test_officer_uploads_a_template_with_one_bad_row(
    page: Page, live_server: Any, world: Any, screenshot_dir: Path, page_problems: Any, tmp_path: Path
) -> None:
    officer, program = world
    login(page, live_server.url, officer.username)
    page.goto(f"{live_server.url}/program/{program.pk}/")
    expect(page.get_by_test_id("program-reached")).to_contain_text("0 /")
    page.get_by_test_id("spreadsheet-upload").click()
    expect(page.get_by_role("heading", level=1, name="Unggah spreadsheet penyaluran")).to_be_visible()

    # The pre-filled template of desa Blumah: the three eligible families, with ID Keluarga and head name.
    page.get_by_label("Templat terisi keluarga yang memenuhi syarat di desa:").select_option(DESA)
    with page.expect_download() as download:
        page.get_by_role("button", name="Unduh templat terisi").click()
    template = tmp_path / "templat.xlsx"
    download.value.save_as(template)
    assert download.value.suggested_filename.endswith("-terisi.xlsx")
    assert PersonalDataAccess.objects.filter(user=officer, action=AccessAction.EXPORT).count() == 1

    # Filled offline: two deliveries, the third family left empty (skipped), one row with an unknown ID.
    workbook = load_workbook(template)
    sheet = workbook.worksheets[0]
    rows = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    assert set(rows) == {"P3KE-0001", "P3KE-0002", "P3KE-0003"}
    for key in ("P3KE-0001", "P3KE-0002"):
        sheet.cell(row=rows[key], column=5, value=TODAY)
        sheet.cell(row=rows[key], column=9, value="paket sembako")
    bad_row = sheet.max_row + 1
    sheet.cell(row=bad_row, column=1, value="P3KE-9999")
    sheet.cell(row=bad_row, column=5, value=TODAY)
    filled = tmp_path / "terisi.xlsx"
    workbook.save(filled)

    page.get_by_label("Berkas penyaluran (.xlsx atau .csv)").set_input_files(str(filled))
    shoot(page, screenshot_dir, "intervention-upload-1-upload")
    page.get_by_role("button", name="Unggah dan periksa").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Pratinjau unggahan")
    expect(page.get_by_test_id("import-preview-ready")).to_be_visible(timeout=120_000)
    preview = page.get_by_test_id("preview-delivery")
    expect(preview.get_by_test_id("count-valid")).to_have_text("2")
    expect(preview.get_by_test_id("count-rejected")).to_have_text("1")
    expect(preview.get_by_test_id("count-skipped")).to_have_text("1")
    bad = page.get_by_test_id("sample-delivery").locator(f'tr[data-row="{bad_row}"]')
    expect(bad).to_contain_text("ID Keluarga P3KE P3KE-9999 tidak ditemukan di wilayah Anda.")
    empty = page.get_by_test_id("sample-delivery").locator(f'tr[data-row="{rows["P3KE-0003"]}"]')
    expect(empty).to_have_attribute("data-state", "skipped")
    assert not Intervention.objects.exists()
    shoot(page, screenshot_dir, "intervention-upload-2-preview")

    page.get_by_role("button", name="Simpan penyaluran").click()
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "succeeded", timeout=120_000)
    expect(page.get_by_test_id("result-created")).to_have_text("2")
    expect(page.get_by_test_id("result-rejected")).to_have_text("1")
    expect(page.get_by_test_id("result-skipped")).to_have_text("1")
    error = page.get_by_test_id("row-errors").locator(f'tr[data-row="{bad_row}"]')
    expect(error).to_contain_text("P3KE-9999")
    expect(error).to_have_attribute("data-code", "household_unknown")
    shoot(page, screenshot_dir, "intervention-upload-3-result")

    job = ImportJob.objects.get()
    assert set(Intervention.objects.values_list("channel", "import_job_id", "entered_by_id")) == {
        (EntryChannel.SPREADSHEET, job.pk, officer.pk)
    }
    page.get_by_test_id("back-to-program").click()
    expect(page.get_by_test_id("program-reached")).to_contain_text("2 /")
    shoot(page, screenshot_dir, "intervention-upload-4-program")
    # A navigation that turns into a download is reported by chromium as an aborted request: not a problem.
    page_problems.failed_requests = [r for r in page_problems.failed_requests if "/templat.xlsx?" not in r]
    page_problems.assert_clean()
