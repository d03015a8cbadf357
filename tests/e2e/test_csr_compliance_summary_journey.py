"""Browser journey: the secretariat opens the CSR compliance page (a silent plantation company flagged after
the deadline, a refusal with its reason), follows the link to the Musrenbang CSR summary (Chart.js charts
drawn), downloads its PDF and goes back; leadership sees the counts only.
Screenshots: ``test-results/e2e-csr-compliance-*.png``, ``e2e-csr-summary-*.png``; the PDF is kept as
``test-results/e2e-csr-summary.pdf`` (look at it with ``pdftoppm -png -r 60``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests import factories as f
from tests.csr import compliance_world as w
from tests.csr.test_summary import build_world
from tests.e2e.test_journeys import assert_styled, login, shoot
from tests.factories import PASSWORD
from tkpk.models import CompanySector
from tkpk.scoping import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REASON = "Dana TJSL tahun ini dialihkan untuk pemulihan pascabanjir di wilayah operasi."


@pytest.fixture
def world(settings: Any, tmp_path: Path) -> dict[str, Any]:
    settings.MEDIA_ROOT = tmp_path / "media"
    secretariat = f.user_with_role(Role.SECRETARIAT)
    data = build_world(secretariat)
    w.company(CompanySector.PLANTATION, name="PT Sawit Belum Lapor")
    refusing = w.company(CompanySector.MINING, name="PT Tambang Menolak")
    w.refuse(partner=refusing, cycle=data["cycle"], reason=REASON)
    w.move_deadline(data["cycle"], timezone.now() - dt.timedelta(days=1))
    return {**data, "secretariat": secretariat}


def test_secretariat_reads_compliance_and_summary(
    page: Page, live_server: Any, world: dict[str, Any], screenshot_dir: Path, page_problems: Any
) -> None:
    cycle = world["cycle"]
    login(page, live_server.url, world["secretariat"].username, PASSWORD)
    page.goto(f"{live_server.url}/csr/kepatuhan/{cycle.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kepatuhan CSR")
    assert_styled(page)
    # Flagged: the silent company, and those of the summary world with only a draft or a withdrawn proposal.
    flagged = page.locator('[data-testid="compliance-row"][data-flagged="1"]')
    expect(flagged).to_have_count(3)
    expect(flagged.filter(has_text="PT Sawit Belum Lapor")).to_have_count(1)
    expect(page.get_by_test_id("compliance-table")).to_contain_text(REASON)
    shoot(page, screenshot_dir, "csr-compliance-1-all")
    page.get_by_label("Hanya yang lewat batas tanpa usulan/surat").check()
    expect(page.get_by_test_id("compliance-row")).to_have_count(3)
    expect(page.get_by_test_id("compliance-table")).not_to_contain_text("PT Tambang Menolak")
    shoot(page, screenshot_dir, "csr-compliance-2-flagged")

    page.get_by_test_id("link-summary").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ringkasan Musrenbang CSR")
    expect(page.get_by_test_id("summary-table")).to_have_count(6)
    drawn = page.evaluate(
        "() => ['sector-chart', 'kecamatan-chart', 'cluster-chart', 'strategy-chart', 'kind-chart']"
        ".map(id => !!(window.Chart && Chart.getChart(document.getElementById(id))))"
    )
    assert drawn == [True] * 5
    expect(page.locator("body")).not_to_contain_text("PT Sawit Sejahtera")
    shoot(page, screenshot_dir, "csr-summary-1-page")
    page_problems.assert_clean()

    with page.expect_download() as download_info:
        page.get_by_test_id("summary-pdf").click()
    pdf_path = screenshot_dir / "e2e-csr-summary.pdf"
    download_info.value.save_as(pdf_path)
    assert len(PdfReader(pdf_path).pages) >= 2

    page.get_by_test_id("link-compliance").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kepatuhan CSR")


def test_leadership_sees_compliance_counts_only(
    page: Page, live_server: Any, world: dict[str, Any], screenshot_dir: Path
) -> None:
    leader = f.user_with_role(Role.LEADERSHIP)
    login(page, live_server.url, leader.username, PASSWORD)
    page.goto(f"{live_server.url}/csr/kepatuhan/{world['cycle'].pk}/")
    expect(page.get_by_test_id("count-flagged")).to_have_text("3")
    expect(page.get_by_test_id("compliance-counts-only")).to_be_visible()
    expect(page.get_by_test_id("compliance-row")).to_have_count(0)
    shoot(page, screenshot_dir, "csr-compliance-3-leadership")
