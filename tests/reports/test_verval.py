"""The filled verval sheet back through the import engine: statuses, graduations, refused rows, scope."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from households import selectors as household_selectors
from households.choices import HouseholdStatus, VerificationPriority
from households.importing import jobs
from households.models import Graduation, Household, ImportJob, ImportKind, ImportStatus, RowError
from reports import gaplist, selectors, verval
from tests.factories import HouseholdFactory, load_kendal, load_region, region, user_with_role
from tests.reports.gaplist_world import GapWorld, build_world
from tkpk.exceptions import DomainError
from tkpk.models import Region, RegionLevel
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

STATUS_COL, DATE_COL, NOTE_COL = 13, 14, 15


@pytest.fixture
def world() -> GapWorld:
    load_kendal()
    return build_world()


def exported_sheet(world: GapWorld, fills: dict[int, tuple[Any, Any, Any]], extra: list[list[Any]] = ()) -> bytes:
    """The gap list of Kendal as exported, with the verval columns filled per household id (+ extra rows)."""
    buffer = io.BytesIO()
    filters = selectors.GapListFilters(year=world.year, region="3324")
    gaplist.export_write(buffer, user=world.secretariat, filters=filters, reveal=True, ids=[])
    workbook = load_workbook(io.BytesIO(buffer.getvalue()))
    sheet = workbook.active
    for row in range(gaplist.HEADER_ROW + 1, sheet.max_row + 1):
        household_id = sheet.cell(row=row, column=1).value
        if household_id in fills:
            for column, value in zip((STATUS_COL, DATE_COL, NOTE_COL), fills[household_id], strict=True):
                sheet.cell(row=row, column=column, value=value)
    for cells in extra:
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run_upload(world: GapWorld, content: bytes, *, actor: Any = None) -> ImportJob:
    """Upload → preview → confirm → run, as the web and the worker do (tasks not sent)."""
    upload = SimpleUploadedFile("verval-desa.xlsx", content)
    job = verval.verval_upload(actor=actor or world.secretariat, upload=upload, region=region("3324"), send=False)
    job = jobs.import_job_preview(job=job)
    assert job.preview["verval"]["counts"]["rows"] >= 1
    job = jobs.import_job_confirm(job=job, send=False, accept_duplicate=True)
    done = jobs.import_job_execute(job_id=job.pk)
    assert done is not None
    return done


def test_good_file_updates_statuses_and_graduations(world: GapWorld) -> None:
    a1, a2, a3 = world.a
    b1, b2 = world.b
    verval_day = dt.date(2026, 11, 3)
    content = exported_sheet(
        world,
        {
            a1.pk: ("TIDAK MISKIN LAGI", verval_day, "Usaha warung berkembang"),
            a2.pk: ("PINDAH", "05-11-2026", "Pindah ke Semarang"),
            a3.pk: ("meninggal", None, None),
            b1.pk: ("DITEMUKAN", None, None),
            b2.pk: ("TIDAK DITEMUKAN", None, "Rumah kosong"),
        },
    )
    with mock.patch("reports.services.gap_recompute_after_write") as recompute:
        job = run_upload(world, content)
    assert job.status == ImportStatus.SUCCEEDED, job.message
    assert job.kind == ImportKind.VERVAL and job.error_count == 0 and not job.message
    recompute.assert_called_once_with(region_code="3324", years=set())
    result = job.summary["verval"]
    assert result == {
        "found": 1,
        "moved": 1,
        "deceased": 1,
        "graduated": 1,
        "not_found": 1,
        "unchanged": 0,
        "skipped": 0,
        "rejected": 0,
        "changed": 4,
    }
    for household in (a1, a2, a3, b1, b2):
        household.refresh_from_db()
    assert a1.status == HouseholdStatus.GRADUATED and a1.status_changed_on == verval_day
    assert a1.status_reason == "Usaha warung berkembang" and a1.status_verified_by == world.secretariat
    assert a2.status == HouseholdStatus.MOVED and a2.status_changed_on == dt.date(2026, 11, 5)
    assert a3.status == HouseholdStatus.DECEASED and a3.status_changed_on == job.snapshot_date
    assert a3.status_reason == "Verval lapangan"
    assert b1.status == HouseholdStatus.ACTIVE and b2.status == HouseholdStatus.ACTIVE
    assert b2.verification_priority == VerificationPriority.OTHER and b1.verification_priority != "LAINNYA"
    graduation = Graduation.objects.get()
    assert graduation.household == a1 and graduation.graduated_on == verval_day
    assert graduation.reason == "Usaha warung berkembang" and graduation.import_job == job
    assert graduation.verified_by == world.secretariat and graduation.revoked_on is None
    if connection.vendor == "postgresql":
        events = household_selectors.household_history(household=a1)
        assert any("status" in (event.pgh_diff or {}) for event in events)


def test_blank_status_rows_are_skipped_and_a_rerun_is_unchanged(world: GapWorld) -> None:
    a1 = world.a[0]
    content = exported_sheet(world, {a1.pk: ("TIDAK MISKIN LAGI", None, "")})
    first = run_upload(world, content)
    assert first.summary["verval"]["graduated"] == 1 and first.summary["verval"]["skipped"] == 4
    second = run_upload(world, content)
    assert second.status == ImportStatus.SUCCEEDED
    assert second.summary["verval"]["unchanged"] == 1 and second.summary["verval"]["changed"] == 0
    assert Graduation.objects.count() == 1
    assert Graduation.objects.get().reason == "Verval lapangan"


def test_bad_rows_are_reported_and_nothing_is_written(world: GapWorld) -> None:
    load_region("33.25")
    batang_desa = Region.objects.filter(level=RegionLevel.DESA, code__startswith="3325").order_by("code").first()
    batang = HouseholdFactory(desa=batang_desa, head_name="Di Batang")
    moved = HouseholdFactory(desa=world.desa_a, status=HouseholdStatus.MOVED, status_changed_on=dt.date(2025, 1, 2))
    a1, a2, a3 = world.a
    future = timezone.localdate() + dt.timedelta(days=3)
    content = exported_sheet(
        world,
        {
            a1.pk: ("TIDAK MISKIN LAGI", dt.date(2026, 10, 1), "Valid"),
            a2.pk: ("SUDAH KAYA", None, None),
            a3.pk: ("PINDAH", "32-13-2026", None),
            world.b[0].pk: ("PINDAH", future, None),
        },
        extra=[
            [batang.pk, "x", *[None] * 10, "DITEMUKAN"],
            [999_999_999, "x", *[None] * 10, "PINDAH"],
            [a1.pk, "x", *[None] * 10, "DITEMUKAN"],
            [moved.pk, "x", *[None] * 10, "MENINGGAL"],
            ["abc", "x", *[None] * 10, "DITEMUKAN"],
        ],
    )
    job = run_upload(world, content)
    assert job.status == ImportStatus.SUCCEEDED and job.summary["blocked"]
    assert "Tidak ada perubahan yang disimpan: 8 baris ditolak" in job.message
    assert job.error_count == 8
    errors = {(e.row_number, e.column, e.code): e.message for e in RowError.objects.filter(job=job)}
    first_data = gaplist.HEADER_ROW + 1
    row_of = {h.pk: first_data + i for i, h in enumerate(sorted([*world.a, *world.b], key=lambda h: h.pk))}
    last = first_data + 5
    assert "tidak dikenal" in errors[(row_of[a2.pk], "Status verval", "status_unknown")]
    assert "tidak terbaca" in errors[(row_of[a3.pk], "Tanggal verval", "date_invalid")]
    assert "masa depan" in errors[(row_of[world.b[0].pk], "Tanggal verval", "date_future")]
    assert (
        f"ID keluarga {batang.pk} tidak ditemukan di wilayah Anda"
        in errors[(last, "ID Keluarga (sistem)", "household_unknown")]
    )
    assert "tidak ditemukan di wilayah Anda" in errors[(last + 1, "ID Keluarga (sistem)", "household_unknown")]
    assert f"sudah ada di baris {row_of[a1.pk]}" in errors[(last + 2, "ID Keluarga (sistem)", "duplicate_in_file")]
    assert "berstatus “Pindah”" in errors[(last + 3, "Status verval", "status_conflict")]
    assert "berupa angka" in errors[(last + 4, "ID Keluarga (sistem)", "household_id")]
    assert len(errors) == 8
    a1.refresh_from_db()
    assert a1.status == HouseholdStatus.ACTIVE and not Graduation.objects.exists()
    assert set(Household.objects.values_list("status", flat=True)) == {HouseholdStatus.ACTIVE, HouseholdStatus.MOVED}


def test_preview_lists_refused_rows_before_anything_runs(world: GapWorld) -> None:
    content = exported_sheet(world, {world.a[0].pk: ("HILANG", None, None), world.a[1].pk: ("PINDAH", None, None)})
    job = verval.verval_upload(
        actor=world.secretariat, upload=SimpleUploadedFile("v.xlsx", content), region=region("3324"), send=False
    )
    job = jobs.import_job_preview(job=job)
    counts = job.preview["verval"]["counts"]
    assert counts["rows"] == 5 and counts["rejected"] == 1 and counts["moved"] == 1 and counts["skipped"] == 3
    assert job.preview["verval"]["issues"][0]["column"] == "Status verval"
    assert Household.objects.get(pk=world.a[1].pk).status == HouseholdStatus.ACTIVE
    page = Client()
    page.force_login(world.secretariat)
    html = page.get(reverse("reports:verval_detail", args=[job.pk])).content.decode()
    assert "Status verval “HILANG” tidak dikenal" in html and "verval-confirm" not in html


def test_a_file_without_the_columns_is_refused(world: GapWorld, tmp_path: Path) -> None:
    content = b"Nama;Alamat\nA;B\n"
    job = verval.verval_upload(
        actor=world.secretariat, upload=SimpleUploadedFile("lain.csv", content), region=region("3324"), send=False
    )
    with pytest.raises(jobs.ImportRefusedError, match="Status verval"):
        jobs.import_job_preview(job=job)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED


def test_only_the_secretariat_uploads(world: GapWorld) -> None:
    opd = user_with_role(Role.OPD_OFFICER, "3324")
    with pytest.raises(DomainError):
        verval.verval_upload(actor=opd, upload=SimpleUploadedFile("v.xlsx", b"x"), region=region("3324"), send=False)
    client = Client()
    client.force_login(opd)
    assert client.get(reverse("reports:verval_upload")).status_code == 403
    assert client.post(reverse("reports:verval_upload"), {}).status_code == 403


def test_web_upload_creates_a_verval_job(world: GapWorld) -> None:
    content = exported_sheet(world, {world.a[0].pk: ("DITEMUKAN", None, None)})
    client = Client()
    client.force_login(world.secretariat)
    with mock.patch("households.importing.jobs._send_preview"):
        response = client.post(
            reverse("reports:verval_upload"), {"file": SimpleUploadedFile("verval.xlsx", content), "region": "3324"}
        )
    job = ImportJob.objects.get(kind=ImportKind.VERVAL)
    assert response.status_code == 302 and response["Location"] == reverse("reports:verval_detail", args=[job.pk])
    assert job.created_by == world.secretariat and job.files.get().kind == "verval"
    assert client.get(reverse("reports:verval_upload")).status_code == 200


def test_a_sheet_downloaded_in_english_comes_back(world: GapWorld) -> None:
    """The column titles follow the interface language; the upload reads them in every language."""
    from django.utils import translation

    a1 = world.a[0]
    with translation.override("en"):
        content = exported_sheet(world, {a1.pk: ("PINDAH", dt.date(2026, 11, 3), "moved to Semarang")})
    header = load_workbook(io.BytesIO(content)).active[gaplist.HEADER_ROW]
    assert "Household ID (system)" in [cell.value for cell in header]

    job = run_upload(world, content)

    assert job.status == ImportStatus.SUCCEEDED, job.message
    assert Household.objects.get(pk=a1.pk).status == HouseholdStatus.MOVED
