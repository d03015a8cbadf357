"""CSR allocation by spreadsheet (import engine, kind csr_allocation): allocations from a good file, every refused
row kind with its Indonesian message, row and column (nothing written), overrides with a reason, English headers,
the pages and the template."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from csr import allocation_import
from csr.models import Allocation, AllocationSource, CsrCycle
from households.importing import jobs
from households.models import Household, ImportJob, ImportKind, ImportStatus, RowError
from programs.models import AssistanceKind
from tests import factories as f
from tkpk.models import Organization
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

PLANTUNGAN_DESA = "3324012001"  # kecamatan 33.24.01: the partners' operating area
CANDIROTO_DESA = "3324151001"  # another kecamatan of Kendal
KUKAR_DESA = "6402012001"  # Kutai Kartanegara: outside the secretariat's region
ID_HEADERS = ["ID Keluarga", "ID Keluarga P3KE", "No KK", "Kode mitra", "Nama mitra", "Kebutuhan (jenis bantuan)"]
HEADERS = [*ID_HEADERS, "Alasan alokasi ganda", "Catatan"]


@dataclass
class World:
    secretariat: Any
    cycle: CsrCycle
    sawit: Organization
    tambang: Organization
    kind: AssistanceKind
    h1: Household
    h2: Household
    h3: Household
    taken: Household
    other_kecamatan: Household
    kukar: Household
    p3ke_id: str


@pytest.fixture
def world() -> World:
    kecamatan = f.region(PLANTUNGAN_DESA[:6])
    sawit = f.OrganizationFactory(company=True, short_code="pt-sawit-uji", name="PT Sawit Uji Lestari")
    tambang = f.OrganizationFactory(company=True, short_code="pt-tambang-uji", name="PT Tambang Uji", sector="mining")
    sawit.area.set([kecamatan])
    tambang.area.set([kecamatan])
    secretariat = f.user_with_role(Role.SECRETARIAT)
    cycle = f.CsrCycleFactory()
    kind = f.reference(AssistanceKind, "pangan")
    h1, h2, h3, taken = (f.HouseholdFactory(desa=f.desa(PLANTUNGAN_DESA), desil=1) for _ in range(4))
    link = f.HouseholdSourceLinkFactory(household=h2, external_id="P3KE3324000000777")
    Allocation.objects.create(organization=tambang, household=taken, cycle=cycle, assistance_kind=kind)
    return World(
        secretariat=secretariat,
        cycle=cycle,
        sawit=sawit,
        tambang=tambang,
        kind=kind,
        h1=h1,
        h2=h2,
        h3=h3,
        taken=taken,
        other_kecamatan=f.HouseholdFactory(desa=f.desa(CANDIROTO_DESA)),
        kukar=f.HouseholdFactory(desa=f.desa(KUKAR_DESA)),
        p3ke_id=link.external_id,
    )


def sheet(rows: list[list[Any]], headers: list[str] = HEADERS, title_rows: int = 0) -> bytes:
    workbook = Workbook()
    ws = workbook.active
    for _ in range(title_rows):
        ws.append(["Daftar alokasi sasaran CSR Kabupaten Kendal"])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(world: World, content: bytes, name: str = "alokasi.xlsx") -> ImportJob:
    job = allocation_import.allocation_upload(
        actor=world.secretariat, cycle=world.cycle, upload=SimpleUploadedFile(name, content), send=False
    )
    return jobs.import_job_preview(job=job)


def run_upload(world: World, content: bytes) -> ImportJob:
    """Upload → preview → confirm → run, as the web and the worker do (tasks not sent)."""
    job = upload(world, content)
    job = jobs.import_job_confirm(job=job, send=False, accept_duplicate=True)
    done = jobs.import_job_execute(job_id=job.pk)
    assert done is not None
    return done


def errors_of(job: ImportJob) -> dict[tuple[int, str, str], str]:
    return {(e.row_number, e.column, e.code): e.message for e in RowError.objects.filter(job=job)}


def test_good_file_creates_spreadsheet_allocations(world: World) -> None:
    content = sheet(
        [
            [world.h1.pk, "", "", "PT-SAWIT-UJI", "", "pangan", "", "Usulan desa"],
            ["", world.p3ke_id, "", "", "pt sawit uji lestari", world.kind.name, "", ""],
            ["", "", world.h3.no_kk, "pt-tambang-uji", "", "PANGAN", "", ""],
        ],
        title_rows=2,
    )
    job = run_upload(world, content)

    assert job.status == ImportStatus.SUCCEEDED, job.message
    assert job.kind == ImportKind.CSR_ALLOCATION and job.error_count == 0 and not job.message
    assert job.summary["allocation"] == {"new": 3, "already": 0, "override": 0, "created": 3, "rejected": 0}
    created = Allocation.objects.filter(import_job=job).order_by("household_id")
    assert [(a.household_id, a.organization_id) for a in created] == sorted(
        [(world.h1.pk, world.sawit.pk), (world.h2.pk, world.sawit.pk), (world.h3.pk, world.tambang.pk)]
    )
    for allocation in created:
        assert allocation.cycle == world.cycle and allocation.assistance_kind == world.kind
        assert allocation.source == AllocationSource.SPREADSHEET and allocation.created_by == world.secretariat
    assert Allocation.objects.get(import_job=job, household=world.h1).note == "Usulan desa"

    again = run_upload(world, content)  # the same file again: nothing new, nothing refused
    assert again.status == ImportStatus.SUCCEEDED and again.summary["allocation"]["already"] == 3
    assert again.summary["allocation"]["created"] == 0 and Allocation.objects.count() == 4


def test_every_bad_row_kind_is_reported_and_nothing_is_written(world: World) -> None:
    content = sheet(
        [
            [999_999_999, "", "", "pt-sawit-uji", "", "pangan", "", ""],  # 2: not found
            [world.other_kecamatan.pk, "", "", "pt-sawit-uji", "", "pangan", "", ""],  # 3: outside operating area
            [world.kukar.pk, "", "", "pt-sawit-uji", "", "pangan", "", ""],  # 4: outside the region
            [world.h1.pk, "", "", "pt-tak-ada", "", "pangan", "", ""],  # 5: unknown partner
            [world.h1.pk, "", "", "pt-sawit-uji", "", "bantuan bulan", "", ""],  # 6: unknown kind
            [world.taken.pk, "", "", "pt-sawit-uji", "", "pangan", "", ""],  # 7: held by PT Tambang, no reason
            [world.h2.pk, "", "", "pt-sawit-uji", "", "pangan", "", ""],  # 8: fine
            [world.h2.pk, "", "", "PT-SAWIT-UJI", "", "Pangan", "", ""],  # 9: repeats row 8
            ["", "P3KE0000", "", "pt-sawit-uji", "", "pangan", "", ""],  # 10: unknown P3KE id
            ["", "", "33240101", "pt-sawit-uji", "", "pangan", "", ""],  # 11: malformed No KK
            ["abc", "", "", "", "", "", "", ""],  # 12: id not a number, no partner, no need
            [world.h3.pk, "", "", "pt-tambang-uji", "", "pangan", "", ""],  # 13: fine ...
            [world.h3.pk, "", "", "pt-sawit-uji", "", "pangan", "", ""],  # 14: ... another partner in the file
        ]
    )
    preview_job = upload(world, content)
    counts = preview_job.preview["allocation"]["counts"]
    assert counts["rows"] == 13 and counts["rejected"] == 11 and counts["new"] == 2
    page = Client()
    page.force_login(world.secretariat)
    html = page.get(reverse("csr:allocation-job", args=[world.cycle.pk, preview_job.pk])).content.decode()
    assert "berada di luar wilayah Anda" in html and "allocation-confirm" not in html
    jobs.import_job_cancel(job=preview_job)

    job = run_upload(world, content)
    assert job.status == ImportStatus.SUCCEEDED and job.summary["blocked"]
    assert "Tidak ada alokasi yang disimpan: 11 baris ditolak" in job.message
    assert job.error_count == 11
    errors = errors_of(job)
    assert errors[(2, "ID Keluarga", "household_not_found")] == (
        "Keluarga dengan ID 999999999 tidak ditemukan di registri."
    )
    assert errors[(3, "ID Keluarga", "outside_operating_area")] == (
        f"Keluarga {world.other_kecamatan.pk} berada di luar wilayah operasi PT Sawit Uji Lestari."
    )
    assert errors[(4, "ID Keluarga", "household_out_of_region")] == (
        f"Keluarga dengan ID {world.kukar.pk} berada di luar wilayah Anda."
    )
    assert "Kode mitra “pt-tak-ada” tidak dikenal" in errors[(5, "Kode mitra", "partner_unknown")]
    assert "Jenis bantuan “bantuan bulan” tidak dikenal" in errors[(6, "Kebutuhan (jenis bantuan)", "kind_unknown")]
    taken = errors[(7, "Alasan alokasi ganda", "allocated_to_other")]
    assert f"Keluarga {world.taken.pk} sudah dialokasikan ke PT Tambang Uji untuk kebutuhan" in taken
    assert "Isi Alasan alokasi ganda" in taken
    assert "Baris ini sama dengan baris 8" in errors[(9, "ID Keluarga", "duplicate_in_file")]
    assert (
        "ID Keluarga P3KE P3KE0000 tidak ditemukan di wilayah Anda."
        == errors[(10, "ID Keluarga P3KE", "household_not_found")]
    )
    assert "harus 16 digit" in errors[(11, "No KK", "kk_format")]
    assert "harus berupa angka" in errors[(12, "ID Keluarga", "household_id_format")]
    assert errors[(12, "Kode mitra", "partner_required")] == "Isi Kode mitra atau Nama mitra."
    assert "Isi Kebutuhan (jenis bantuan)" in errors[(12, "Kebutuhan (jenis bantuan)", "kind_required")]
    assert "di baris 13 berkas ini" in errors[(14, "Alasan alokasi ganda", "allocated_to_other")]
    assert len(errors) == 13  # row 12 has three problems
    assert Allocation.objects.count() == 1  # only the world's own allocation of PT Tambang
    assert not Allocation.objects.filter(import_job=job).exists()


def test_override_with_a_reason_is_accepted_and_recorded(world: World) -> None:
    reason = "Dua program berbeda: sembako dan dapur umum"
    content = sheet(
        [
            [world.taken.pk, "", "", "pt-sawit-uji", "", "pangan", reason, ""],
            [world.h1.pk, "", "", "pt-tambang-uji", "", "pangan", "", ""],
            [world.h1.pk, "", "", "pt-sawit-uji", "", "pangan", reason, ""],
        ]
    )
    job = run_upload(world, content)

    assert job.status == ImportStatus.SUCCEEDED and not job.summary["blocked"], job.message
    assert job.summary["allocation"]["override"] == 2 and job.summary["allocation"]["created"] == 3
    taken = Allocation.objects.get(household=world.taken, organization=world.sawit)
    assert taken.override_reason == reason and taken.import_job == job
    assert Allocation.objects.filter(household=world.taken).count() == 2
    assert Allocation.objects.get(household=world.h1, organization=world.tambang).override_reason == ""
    assert Allocation.objects.get(household=world.h1, organization=world.sawit).override_reason == reason


def test_english_headers_are_read(world: World) -> None:
    headers = ["Household ID", "Partner code", "Assistance kind", "Override reason", "Notes"]
    content = sheet([[world.h1.pk, "pt-sawit-uji", "pangan", "", "from the forum"]], headers=headers)
    job = run_upload(world, content)

    assert job.status == ImportStatus.SUCCEEDED and job.summary["allocation"]["created"] == 1, job.message
    allocation = Allocation.objects.get(import_job=job)
    assert allocation.household == world.h1 and allocation.note == "from the forum"


def test_a_file_without_the_columns_is_refused(world: World) -> None:
    content = sheet([[world.h1.pk, "pt-sawit-uji"]], headers=["ID Keluarga", "Kode mitra"])
    job = allocation_import.allocation_upload(
        actor=world.secretariat, cycle=world.cycle, upload=SimpleUploadedFile("a.xlsx", content), send=False
    )
    with pytest.raises(jobs.ImportRefusedError, match="Kebutuhan \\(jenis bantuan\\)"):
        jobs.import_job_preview(job=job)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and not Allocation.objects.filter(import_job=job).exists()


def test_pages_upload_template_and_scope(world: World) -> None:
    client = Client()
    client.force_login(world.secretariat)
    url = reverse("csr:allocation-upload", args=[world.cycle.pk])
    assert url == f"/csr/{world.cycle.pk}/alokasi/unggah/"
    assert client.get(url).status_code == 200

    template = client.get(reverse("csr:allocation-template", args=[world.cycle.pk]))
    assert template.status_code == 200
    header = [c.value for c in next(load_workbook(io.BytesIO(template.content)).active.iter_rows(max_row=1))]
    assert header == HEADERS

    content = sheet([[world.h1.pk, "", "", "pt-sawit-uji", "", "pangan", "", ""]])
    response = client.post(url, {"file": SimpleUploadedFile("alokasi.xlsx", content)})
    job = ImportJob.objects.get(kind=ImportKind.CSR_ALLOCATION)
    assert response.status_code == 302 and response["Location"].endswith(f"/alokasi/unggah/{job.pk}/")
    assert job.options == {"cycle_id": world.cycle.pk}
    assert "Menyiapkan pratinjau" in client.get(response["Location"]).content.decode()
    jobs.import_job_preview_execute(job_id=job.pk)  # what the preview task runs
    detail = client.get(response["Location"]).content.decode()
    assert "allocation-confirm" in detail and "allocation-preview" in detail
    confirm = client.post(reverse("csr:allocation-confirm", args=[world.cycle.pk, job.pk]))  # queued for a worker
    assert confirm.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED

    # Another cycle's URL does not open this job; the partner and OPD get 403; Kukar's secretariat 404.
    other = f.CsrCycleFactory()
    assert client.get(reverse("csr:allocation-job", args=[other.pk, job.pk])).status_code == 404
    for role, region_code, status in ((Role.PARTNER, "3324", 403), (Role.SECRETARIAT, "6402", 404)):
        outsider = Client()
        outsider.force_login(f.user_with_role(role, region_code))
        assert outsider.get(url).status_code == status
        assert outsider.post(url, {"file": SimpleUploadedFile("a.xlsx", content)}).status_code == status
    assert ImportJob.objects.filter(kind=ImportKind.CSR_ALLOCATION).count() == 1


def test_only_the_cycles_secretariat_uploads(world: World) -> None:
    from tkpk.exceptions import DomainError

    kukar = f.user_with_role(Role.SECRETARIAT, "6402")
    with pytest.raises(DomainError, match="Hanya sekretariat TKPK wilayah siklus ini"):
        allocation_import.allocation_upload(
            actor=kukar, cycle=world.cycle, upload=SimpleUploadedFile("a.xlsx", b"x"), send=False
        )
    assert not ImportJob.objects.exists()
