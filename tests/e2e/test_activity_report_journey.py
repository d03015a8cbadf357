"""Browser journey: an OPD officer fills and submits the semester activity report (figures pre-filled from the
agency's interventions); the secretariat sees who has not submitted, returns the report with a note; the
officer corrects and resubmits; the secretariat accepts and downloads the period as .xlsx.
Screenshots: ``test-results/e2e-activity-*.png``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from programs import activity
from programs.models import ActivityReport, ActivityReportStatus
from tests import factories as f
from tests.e2e.test_journeys import PASSWORD, assert_styled, login, shoot
from tkpk.models import Membership, Organization, OrganizationKind
from tkpk.regions import regions_load
from tkpk.scoping import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOTE = "Mohon lengkapi jumlah keluarga per desa dan foto kegiatan."


def make_user(username: str, organization: Organization, role: str, **names: Any) -> Any:
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff=role == Role.SECRETARIAT, **names
    )
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


@pytest.fixture
def people() -> dict[str, Any]:
    regions_load(code="33.24")
    secretariat_org = Organization.objects.create(
        kind=OrganizationKind.SECRETARIAT, name="Sekretariat TKPK Kendal", short_code="tkpk-kendal", region_id="3324"
    )
    dinsos = Organization.objects.create(
        kind=OrganizationKind.OPD, name="Dinas Sosial Kendal", short_code="dinsos-kendal", region_id="3324"
    )
    Organization.objects.create(
        kind=OrganizationKind.BAZNAS, name="BAZNAS Kabupaten Kendal", short_code="baznas-kendal", region_id="3324"
    )
    today = dt.date.today()
    program = f.ProgramFactory(
        organization=dinsos, code="sembako-daerah", name="Bantuan Sembako Daerah", target_households=40,
        budget=60_000_000, unit_value=300_000,
    )  # fmt: skip
    for name in ("Siti Aminah", "Sutrisno"):
        f.InterventionFactory(program=program, household=f.HouseholdFactory(head_name=name), delivered_on=today)
    return {
        "officer": make_user("petugas-dinsos", dinsos, Role.OPD_OFFICER, first_name="Budi", last_name="Dinsos"),
        "secretariat": make_user(
            "sekretariat-kendal", secretariat_org, Role.SECRETARIAT, first_name="Rina", last_name="Sektap"
        ),
        "dinsos": dinsos,
    }


def switch_user(page: Page, base_url: str, username: str) -> None:
    page.context.clear_cookies()
    login(page, base_url, username)


def open_reports(page: Page) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Laporan kegiatan").click()


def test_officer_submits_secretariat_returns_then_accepts(
    page: Page, live_server: Any, people: dict[str, Any], screenshot_dir: Path, page_problems: Any
) -> None:
    period = activity.period_current()
    base = live_server.url

    # --- the officer starts the current semester's report: figures come from the two deliveries
    login(page, base, "petugas-dinsos")
    open_reports(page)
    expect(page.get_by_role("heading", level=1, name="Laporan kegiatan")).to_be_visible()
    expect(page.get_by_test_id("my-reports")).to_contain_text("Belum ada laporan")
    expect(page.get_by_label("Periode laporan")).to_have_value(period.key)
    assert_styled(page)
    shoot(page, screenshot_dir, "activity-officer-list")
    page.get_by_role("button", name="Mulai laporan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Laporan kegiatan {period.label}")
    figures = page.get_by_test_id("figures")
    row = figures.locator("tbody tr", has_text="Bantuan Sembako Daerah")
    expect(row.locator("td")).to_have_text(["sembako-daerah Bantuan Sembako Daerah", "40", "60.000.000", "2", "2",
                                            "1.000.000"])  # fmt: skip
    # Submitting without a narrative: refused, the message beside the field.
    page.get_by_label("Kendala dan tindak lanjut").fill("Akses jalan ke Desa Blumah rusak.")
    page.get_by_role("button", name="Ajukan ke sekretariat").click()
    expect(page.get_by_test_id("narrative-error")).to_have_text("Isi uraian kegiatan sebelum mengajukan laporan.")
    expect(page.get_by_label("Kendala dan tindak lanjut")).to_have_value("Akses jalan ke Desa Blumah rusak.")
    shoot(page, screenshot_dir, "activity-officer-edit-error")
    page.get_by_label("Uraian kegiatan").fill("Penyaluran sembako kepada keluarga desil 1 di Kecamatan Plantungan.")
    page.get_by_role("button", name="Ajukan ke sekretariat").click()
    expect(page.get_by_text("Laporan diajukan ke sekretariat TKPK.")).to_be_visible()
    expect(page.get_by_test_id("report-status")).to_have_text("Diajukan")
    expect(page.get_by_test_id("timeline")).to_contain_text("Diajukan ke sekretariat")
    shoot(page, screenshot_dir, "activity-officer-submitted")
    report = ActivityReport.objects.get()
    assert report.status == ActivityReportStatus.SUBMITTED

    # --- the secretariat's board: the BAZNAS has not submitted; the agency's report waits for review
    switch_user(page, base, "sekretariat-kendal")
    open_reports(page)
    expect(page.get_by_role("heading", level=1, name="Papan laporan kegiatan")).to_be_visible()
    board = page.get_by_test_id("board")
    expect(board.locator("tr", has_text="BAZNAS Kabupaten Kendal")).to_contain_text("Belum mengirim")
    expect(board.locator("tr", has_text="Dinas Sosial Kendal")).to_contain_text("Diajukan")
    expect(page.get_by_test_id("count-belum")).to_have_text("1")
    shoot(page, screenshot_dir, "activity-board")
    page.get_by_test_id("status-filters").get_by_role("link", name=re.compile("Belum mengirim")).click()
    expect(page.get_by_test_id("board-row")).to_have_count(1)
    expect(page.get_by_test_id("board-row")).to_contain_text("BAZNAS Kabupaten Kendal")
    page.get_by_test_id("status-filters").get_by_role("link", name=re.compile("Semua")).click()
    board.locator("tr", has_text="Dinas Sosial Kendal").get_by_role("link", name="Tinjau").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tinjau laporan Dinas Sosial Kendal")
    expect(page.get_by_test_id("narrative")).to_contain_text("Penyaluran sembako")
    page.get_by_role("button", name="Kembalikan").click()
    expect(page.get_by_test_id("note-error")).to_have_text("Tuliskan catatan: apa yang perlu diperbaiki.")
    shoot(page, screenshot_dir, "activity-review-error")
    page.get_by_label("Catatan untuk pelapor").fill(NOTE)
    page.get_by_role("button", name="Kembalikan").click()
    expect(page.get_by_text("Laporan Dinas Sosial Kendal dikembalikan dengan catatan.")).to_be_visible()
    expect(board.locator("tr", has_text="Dinas Sosial Kendal")).to_contain_text("Dikembalikan")
    shoot(page, screenshot_dir, "activity-board-returned")

    # --- the officer sees the note, corrects and resubmits
    switch_user(page, base, "petugas-dinsos")
    open_reports(page)
    expect(page.get_by_test_id("my-reports")).to_contain_text(NOTE)
    page.get_by_role("link", name="Lengkapi").click()
    expect(page.get_by_test_id("returned-note")).to_contain_text(NOTE)
    page.get_by_label("Uraian kegiatan").fill(
        "Penyaluran sembako kepada 2 keluarga desil 1 di Desa Blumah, Kecamatan Plantungan (foto terlampir)."
    )
    shoot(page, screenshot_dir, "activity-officer-returned-edit")
    page.get_by_role("button", name="Ajukan ke sekretariat").click()
    expect(page.get_by_test_id("report-status")).to_have_text("Diajukan")

    # --- the secretariat accepts; the timeline shows every step; the period downloads as .xlsx
    switch_user(page, base, "sekretariat-kendal")
    open_reports(page)
    page.get_by_test_id("board").locator("tr", has_text="Dinas Sosial Kendal").get_by_role(
        "link", name="Tinjau"
    ).click()
    page.get_by_role("button", name="Terima").click()
    expect(page.get_by_text("Laporan Dinas Sosial Kendal diterima.")).to_be_visible()
    row = page.get_by_test_id("board").locator("tr", has_text="Dinas Sosial Kendal")
    expect(row).to_contain_text("Diterima")
    row.get_by_role("link", name="Lihat").click()
    timeline = page.get_by_test_id("timeline")
    expect(timeline.locator("li")).to_have_count(5)
    expect(timeline).to_contain_text(NOTE)
    expect(timeline).to_contain_text("Diterima sekretariat")
    shoot(page, screenshot_dir, "activity-detail-accepted")
    page.get_by_role("link", name="Papan laporan kegiatan").click()
    with page.expect_download() as download_info:
        page.get_by_test_id("export").click()
    download = download_info.value
    assert download.suggested_filename == f"laporan-kegiatan-3324-{period.year}-semester-{period.number}.xlsx"
    workbook = load_workbook(io.BytesIO(Path(download.path()).read_bytes()), read_only=True)
    statuses = {r[0]: r[3] for r in workbook["Laporan"].iter_rows(min_row=2, values_only=True)}
    assert statuses == {"Dinas Sosial Kendal": "Diterima", "BAZNAS Kabupaten Kendal": "Belum mengirim"}
    figures_rows = list(workbook["Capaian per program"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[6], r[8]) for r in figures_rows] == [("Dinas Sosial Kendal", "sembako-daerah", 2, 1_000_000)]

    report.refresh_from_db()
    assert report.status == ActivityReportStatus.ACCEPTED
    assert [e["status"] for e in report.status_log] == ["draft", "submitted", "returned", "submitted", "accepted"]
    page_problems.assert_clean()
