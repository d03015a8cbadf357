"""Browser journey: the secretariat requests the annual periodic report (laporan berkala), the row's progress
is polled by htmx until the real Celery worker has written the PDF and the .xlsx, and the PDF downloads.
Screenshots: ``test-results/e2e-periodic-*.png``; the PDF is kept as ``test-results/e2e-periodic-report.pdf``
so its pages can be looked at (``pdftoppm -png -r 60``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from reports.models import GapRunStatus, PeriodicReport
from tests.e2e.test_journeys import assert_styled, login, shoot
from tests.factories import PASSWORD
from tests.reports.test_periodic import YEAR, World, assert_desil1_sheet_equals_summaries, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world() -> Iterator[World]:
    yield build_world()
    for report in PeriodicReport.objects.all():  # the worker shares MEDIA_ROOT: remove what it wrote
        for stored in (report.pdf, report.xlsx):
            if stored:
                stored.delete(save=False)


def test_secretariat_requests_the_annual_report_and_downloads_the_pdf(
    page: Page, live_server: Any, world: World, screenshot_dir: Path, page_problems: Any
) -> None:
    login(page, live_server.url, world.secretariat.username, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Laporan berkala").click()
    expect(page.get_by_role("heading", level=1, name="Laporan berkala")).to_be_visible()
    expect(page.get_by_test_id("periodic-report-empty")).to_be_visible()
    assert_styled(page)

    page.get_by_label("Tahun").select_option(str(YEAR))
    page.get_by_label("Periode").select_option(label="Tahunan")
    shoot(page, screenshot_dir, "periodic-1-form")
    page.get_by_test_id("periodic-report-submit").click()

    expect(page.get_by_role("alert").or_(page.locator(".alert-success"))).to_contain_text("sedang dibuat")
    row = page.get_by_test_id("periodic-report-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"Tahun {YEAR}")
    shoot(page, screenshot_dir, "periodic-2-pending")
    page.evaluate("() => { window.sameDocument = true; }")
    expect(row).to_have_attribute("data-status", "done", timeout=120_000)
    assert page.evaluate("() => window.sameDocument === true")  # swapped in by htmx polling, not reloaded
    expect(row).to_contain_text("Data per")
    shoot(page, screenshot_dir, "periodic-3-done")
    page_problems.assert_clean()  # (a download aborts its navigation, which Playwright reports as failed)

    with page.expect_download() as download_info:
        row.get_by_test_id("download-pdf").click()
    download = download_info.value
    assert download.suggested_filename == f"laporan-berkala-3324-{YEAR}-year.pdf"
    target = screenshot_dir / "e2e-periodic-report.pdf"
    download.save_as(str(target))
    assert target.read_bytes().startswith(b"%PDF")

    with page.expect_download() as xlsx_info:
        row.get_by_test_id("download-xlsx").click()
    xlsx_path = screenshot_dir / "e2e-periodic-report.xlsx"
    xlsx_info.value.save_as(str(xlsx_path))
    assert_desil1_sheet_equals_summaries(xlsx_path.read_bytes())
    assert "Laporan kegiatan" in load_workbook(xlsx_path, read_only=True).sheetnames

    report = PeriodicReport.objects.get()
    assert report.status == GapRunStatus.DONE and report.page_count >= 3

    # Leadership reads and downloads, but has no form to request a report.
    page.context.clear_cookies()
    login(page, live_server.url, world.leadership.username, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Laporan berkala").click()
    expect(page.get_by_test_id("periodic-read-only")).to_be_visible()
    expect(page.get_by_test_id("periodic-report-form")).to_have_count(0)
    expect(page.get_by_test_id("download-pdf")).to_be_visible()
    shoot(page, screenshot_dir, "periodic-4-leadership")
