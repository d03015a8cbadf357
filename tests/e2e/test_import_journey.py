"""Browser journey: the secretariat imports a P3KE family + person file with some bad rows.

Upload → "preview being prepared" until the worker has parsed the files (htmx polling swaps the preview in) →
preview (detected header row, column mapping, counts of valid/warning/rejected) → confirm → the progress bar
(htmx polling) reaches 100 % → result counts → the error report downloads as .xlsx. The preview and the import
run on the real Celery worker (``celery_worker``), bound to this session's e2e test database.
Screenshots: ``test-results/e2e-import-*.png``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from households.importing import jobs
from households.importing.synthetic import p3ke_files_write
from households.models import Household, ImportFile, ImportJob, ImportStatus, Person, RowError
from tests.e2e.test_journeys import PASSWORD, assert_styled, login, shoot
from tests.households.importing.jobs_support import sources
from tkpk.models import Membership, Organization, OrganizationKind, Region
from tkpk.regions import regions_load
from tkpk.scoping import Role

pytestmark = [pytest.mark.e2e, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def secretariat_user() -> Any:
    regions_load(code="33.24")
    sources()
    organization = Organization.objects.create(
        kind=OrganizationKind.SECRETARIAT, name="Sekretariat TKPK Kendal", short_code="tkpk-kendal", region_id="3324"
    )
    user = get_user_model().objects.create_user(
        username="sekretariat-impor", password=PASSWORD, is_staff=True, first_name="Rina", last_name="Impor"
    )
    Membership.objects.create(user=user, organization=organization, role=Role.SECRETARIAT)
    yield user
    for import_file in ImportFile.objects.all():
        import_file.file.delete(save=False)


def test_secretariat_imports_p3ke_files_and_downloads_the_error_report(
    page: Page, live_server: Any, secretariat_user: Any, screenshot_dir: Path, page_problems: Any, tmp_path: Path
) -> None:
    files = p3ke_files_write(directory=tmp_path, families=120, seed=4, messy=True, formats=("xlsx",))
    assert files.expected is not None

    login(page, live_server.url, secretariat_user.username)
    page.get_by_role("navigation").get_by_role("link", name="Impor data").click()
    expect(page.get_by_role("heading", level=1, name="Impor data")).to_be_visible()
    expect(page.get_by_test_id("import-history")).to_contain_text("Belum ada impor")
    assert_styled(page)

    page.get_by_role("link", name="Unggah berkas").click()
    expect(page.get_by_role("heading", level=1, name="Unggah berkas impor")).to_be_visible()
    expect(page.get_by_label("Berkas keluarga P3KE")).to_be_visible()
    expect(page.get_by_label("Berkas DTKS/DTSEN")).to_be_hidden()
    page.get_by_label("Berkas keluarga P3KE").set_input_files(str(files.family["xlsx"]))
    page.get_by_label("Berkas anggota keluarga P3KE").set_input_files(str(files.person["xlsx"]))
    page.get_by_label("Label snapshot").fill("P3KE 2024 Semester 1")
    page.get_by_label("Tanggal data").fill("2024-06-30")
    shoot(page, screenshot_dir, "import-1-upload")
    page.get_by_role("button", name="Unggah dan pratinjau").click()

    # The job page: the worker prepares the preview, the page polls and swaps it in (no reload).
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pratinjau impor")
    job = ImportJob.objects.get()
    expect(page).to_have_url(f"{live_server.url}/registri/impor/{job.pk}/")
    page.evaluate("() => { window.sameDocument = true; }")
    expect(page.get_by_test_id("import-preview-ready")).to_be_visible(timeout=120_000)
    assert page.evaluate("() => window.sameDocument === true")  # swapped in by htmx, not reloaded
    # Preview: header row, mapping, first rows, counts over the whole file; nothing written yet.
    family = page.get_by_test_id("preview-family")
    expect(family).to_contain_text("Baris judul kolom terdeteksi: baris 1")
    expect(family.get_by_test_id("count-rows")).to_have_text(str(files.families))
    # The preview parses every row (duplicate IDs and missing families are found later, by the run's SQL).
    per_row = [
        r for r in files.expected.rows if r.severity == "error" and r.code not in ("duplicate_id", "family_missing")
    ]
    expect(family.get_by_test_id("count-rejected")).to_have_text(str(sum(r.kind == "family" for r in per_row)))
    expect(page.get_by_test_id("mapping-family")).to_contain_text("ID Keluarga P3KE")
    expect(page.get_by_test_id("sample-family").locator("tbody tr")).to_have_count(20)
    person = page.get_by_test_id("preview-person")
    expect(person.get_by_test_id("count-rows")).to_have_text(str(files.persons))
    expect(person.get_by_test_id("count-rejected")).to_have_text(str(sum(r.kind == "person" for r in per_row)))
    expect(page.get_by_test_id("sample-person").locator("tbody tr")).to_have_count(20)
    expect(page.get_by_test_id("unmatched-person")).to_contain_text("Kelompok Usia")  # shown, not imported
    assert not Household.objects.exists()
    shoot(page, screenshot_dir, "import-2-preview")

    page.get_by_role("button", name="Mulai impor").click()
    expect(page).to_have_url(f"{live_server.url}/registri/impor/{job.pk}/")
    progress = page.get_by_test_id("import-progress")
    expect(progress).to_be_visible()
    # Record what the page shows while htmx swaps the status partial in (no reload: the recorder survives).
    page.evaluate(
        """() => { window.seen = []; const tick = () => { const s = document.querySelector('#import-status');
          const b = document.querySelector('[data-testid=import-progress]');
          window.seen.push([s.dataset.status, b.getAttribute('aria-valuenow')]); };
          window.tick = tick; tick(); window.recorder = setInterval(tick, 100); }"""
    )
    shoot(page, screenshot_dir, "import-3-progress")
    expect(progress).to_have_attribute("aria-valuenow", "100", timeout=180_000)
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    # One last sample when stopping (the swap may be younger than the 100 ms tick); window.tick surviving
    # proves that the page was never reloaded.
    seen = page.evaluate("() => { clearInterval(window.recorder); window.tick(); return window.seen; }")
    assert seen[0][0] in ("queued", "running") and int(seen[0][1]) < 100, seen[0]
    assert seen[-1] == ["succeeded", "100"], seen[-1]
    expect(page.get_by_role("heading", name="Impor selesai")).to_be_visible()
    expect(progress).to_contain_text("100 %")

    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED
    families = page.get_by_test_id("result-families")
    expect(families).to_contain_text(f"{job.summary['families']['created']}")
    assert job.summary["families"]["created"] == Household.objects.count() > 0
    assert job.summary["persons"]["created"] == Person.objects.count() > 0
    assert job.summary["families"]["rejected"] == files.expected.families_rejected
    expect(page.get_by_test_id("row-errors")).to_be_visible()
    shoot(page, screenshot_dir, "import-4-result")

    with page.expect_download() as download_info:
        page.get_by_test_id("error-report").click()
    download = download_info.value
    assert download.suggested_filename == f"kesalahan-impor-{job.pk}.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    workbook = load_workbook(saved, read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert rows[0] == ("Berkas", "Nomor baris", "Kolom", "Nilai", "Pesan", "Tingkat", "Kode")
    assert len(rows) - 1 == RowError.objects.filter(job=job).count()
    rejected = {(row[0], row[1]) for row in rows[1:] if row[5] == "Ditolak"}
    for injected in files.expected.rows:
        if injected.severity == "error":
            label = "Keluarga (P3KE)" if injected.kind == "family" else "Anggota keluarga (P3KE)"
            assert (label, injected.row_number) in rejected, injected

    page.get_by_role("link", name="Riwayat impor").click()
    history = page.get_by_test_id("import-history")
    expect(history.locator("tbody tr")).to_have_count(1)
    expect(history).to_contain_text("P3KE 2024 Semester 1")
    expect(history).to_contain_text("Selesai")
    expect(history).to_contain_text(re.compile(r"Rina Impor"))
    shoot(page, screenshot_dir, "import-5-history")
    page_problems.assert_clean()


def test_the_preview_page_waits_for_the_worker_and_swaps_the_preview_in(
    page: Page, live_server: Any, secretariat_user: Any, screenshot_dir: Path, page_problems: Any, tmp_path: Path
) -> None:
    """The pending state, made deterministic: the preview task is not sent, the test runs its body later."""
    files = p3ke_files_write(directory=tmp_path, families=30, seed=6, messy=True, formats=("xlsx",))
    job = jobs.import_job_upload(
        actor=secretariat_user,
        source="p3ke",
        files={"family": files.family["xlsx"], "person": files.person["xlsx"]},
        snapshot_label="P3KE 2024 Semester 2",
        snapshot_date=dt.date(2024, 12, 31),
        region=Region.objects.get(code="3324"),
        send=False,
    )

    login(page, live_server.url, secretariat_user.username)
    page.goto(f"{live_server.url}/registri/impor/{job.pk}/")
    pending = page.get_by_test_id("import-preview-pending")
    expect(pending).to_contain_text("Pratinjau sedang disiapkan…")
    expect(pending.get_by_test_id("import-status-badge")).to_have_text("Menyiapkan pratinjau")
    expect(page.get_by_role("button", name="Mulai impor")).to_have_count(0)
    page.evaluate("() => { window.sameDocument = true; }")
    shoot(page, screenshot_dir, "import-preview-pending")

    assert jobs.import_job_preview_execute(job_id=job.pk) is not None  # what the worker would do

    ready = page.get_by_test_id("import-preview-ready")
    expect(ready).to_be_visible(timeout=30_000)
    expect(pending).to_have_count(0)
    expect(ready.get_by_test_id("counts-family").get_by_test_id("count-rows")).to_have_text(str(files.families))
    expect(page.get_by_role("button", name="Mulai impor")).to_be_visible()
    assert page.evaluate("() => window.sameDocument === true")  # swapped in by htmx polling, not reloaded
    page_problems.assert_clean()
