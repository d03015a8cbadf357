"""Browser journey: the secretariat opens a desa's gap list, downloads it as .xlsx (the verval sheet), fills it as
the desa would, uploads it back through the import engine (preview and run on the real Celery worker) and sees
the statuses and the graduation on the household page; then graduates one more household by hand.
Screenshots: ``/tmp/shots/gaplist_*.png`` (or TKPK_E2E_SCREENSHOT_DIR).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from households.choices import HouseholdStatus
from households.models import Graduation, Household, ImportFile
from reports import gaplist
from tests.e2e.test_journeys import login
from tests.factories import PASSWORD, load_kendal
from tests.reports.gaplist_world import GapWorld, build_world
from tkpk.models import AccessAction, PersonalDataAccess

pytestmark = [pytest.mark.e2e, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shots() -> Path:
    path = Path(os.environ.get("TKPK_E2E_SCREENSHOT_DIR") or "/tmp/shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def world() -> Any:
    load_kendal()
    built = build_world()
    yield built
    for import_file in ImportFile.objects.all():
        import_file.file.delete(save=False)


def shoot(page: Page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"gaplist_{name}.png"), full_page=True)


def test_secretariat_downloads_fills_and_uploads_the_verval_sheet(
    page: Page, live_server: Any, world: GapWorld, shots: Path, page_problems: Any, tmp_path: Path
) -> None:
    a1, a2, a3 = world.a
    login(page, live_server.url, world.secretariat.username, PASSWORD)
    page.goto(f"{live_server.url}/kesenjangan/keluarga/?region={world.dotted(world.desa_a)}&year={world.year}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Daftar kesenjangan keluarga")
    expect(page.get_by_test_id("gap-row")).to_have_count(3)
    expect(page.get_by_test_id("gap-table")).to_contain_text("Sutrisno Aman")
    expect(page.get_by_test_id("gap-freshness")).to_contain_text("Data per")
    shoot(page, shots, "1_list")

    with page.expect_download() as download:
        page.get_by_test_id("gap-export").click()
    sheet_path = tmp_path / "verval.xlsx"
    download.value.save_as(sheet_path)
    assert download.value.suggested_filename.startswith(f"daftar-kesenjangan-{world.desa_a.code}-{world.year}")
    export_log = PersonalDataAccess.objects.get(action=AccessAction.EXPORT, object_type="gap_list")
    assert export_log.user == world.secretariat and export_log.record_count == 3

    # The desa fills it: one no longer poor, one moved; the third left blank.
    workbook = load_workbook(sheet_path)
    sheet = workbook.active
    assert sheet.cell(row=gaplist.HEADER_ROW, column=13).value == "Status verval"
    rows = {sheet.cell(row=r, column=1).value: r for r in range(gaplist.HEADER_ROW + 1, sheet.max_row + 1)}
    assert set(rows) == {a1.pk, a2.pk, a3.pk}
    sheet.cell(row=rows[a1.pk], column=13, value="TIDAK MISKIN LAGI")
    sheet.cell(row=rows[a1.pk], column=14, value=dt.date(2026, 11, 2))
    sheet.cell(row=rows[a1.pk], column=15, value="Warung sembako sudah mandiri")
    sheet.cell(row=rows[a2.pk], column=13, value="PINDAH")
    workbook.save(sheet_path)

    page.get_by_test_id("verval-upload-link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Unggah hasil verifikasi lapangan")
    page.get_by_label("Berkas verval (.xlsx)").set_input_files(str(sheet_path))
    shoot(page, shots, "2_upload")
    page.get_by_role("button", name="Unggah dan pratinjau").click()
    preview = page.get_by_test_id("verval-preview")
    expect(preview).to_be_visible(timeout=120_000)
    expect(preview).to_contain_text("3")
    assert Household.objects.get(pk=a1.pk).status == HouseholdStatus.ACTIVE
    shoot(page, shots, "3_preview")

    page.get_by_test_id("verval-confirm").click()
    result = page.get_by_test_id("verval-result")
    expect(result).to_be_visible(timeout=120_000)
    expect(result).to_contain_text("2")
    shoot(page, shots, "4_result")
    assert Household.objects.get(pk=a1.pk).status == HouseholdStatus.GRADUATED
    assert Household.objects.get(pk=a2.pk).status == HouseholdStatus.MOVED
    graduation = Graduation.objects.get()
    assert graduation.household_id == a1.pk and graduation.import_job_id is not None

    page.goto(f"{live_server.url}/registri/keluarga/{a1.pk}/")
    expect(page.get_by_test_id("graduation-row")).to_contain_text("Warung sembako sudah mandiri")
    shoot(page, shots, "5_household_graduated")

    # One more by hand on the household page.
    page.goto(f"{live_server.url}/registri/keluarga/{a3.pk}/")
    form = page.get_by_test_id("graduation-form")
    form.get_by_label("Alasan").fill("Penghasilan tetap sebagai buruh pabrik")
    form.get_by_label("Keterangan bukti").fill("Surat keterangan desa")
    page.once("dialog", lambda dialog: dialog.accept())
    form.get_by_role("button", name="Graduasi").click()
    expect(page.get_by_test_id("graduation-row")).to_contain_text("Penghasilan tetap")
    shoot(page, shots, "6_household_manual")
    assert Household.objects.get(pk=a3.pk).status == HouseholdStatus.GRADUATED
    page_problems.failed_requests = [r for r in page_problems.failed_requests if "unduh.xlsx" not in r]
    page_problems.assert_clean()
