"""Periodic reports (laporan berkala): content (PDF + .xlsx equal the gap summaries), claim, failure,
permissions of the pages and downloads, and generation on a real Celery worker (PostgreSQL pass)."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from programs.models import ActivityReport, ActivityReportStatus, PeriodKind
from reports import periodic
from reports.models import GapRunStatus, GapSummary, PeriodicReport, PeriodicReportPeriod, RegionTarget
from reports.services import gap_recompute_now
from tests.conftest import CeleryWorker
from tests.factories import (
    HouseholdFactory,
    InterventionFactory,
    OrganizationFactory,
    ProgramFactory,
    load_region,
    region,
    user_with_role,
)
from tkpk.identifiers import dotted_region_code
from tkpk.models import OrganizationKind, Region, RegionLevel
from tkpk.scoping import Role

YEAR = 2026
KENDAL = "3324"
BATANG = "3325"


@dataclass
class World:
    kendal: Region
    secretariat: Any
    leadership: Any
    opd: Any
    partner: Any
    batang_secretariat: Any
    opd_org: Any


def _kecamatan_desa(kecamatan_index: int) -> Region:
    kecamatan = list(Region.objects.filter(level=RegionLevel.KECAMATAN, code__startswith=KENDAL).order_by("code"))[
        kecamatan_index
    ]
    desa = Region.objects.filter(level=RegionLevel.DESA, code__startswith=kecamatan.code).order_by("code").first()
    assert desa is not None
    return desa


def build_world() -> World:
    """Kendal with desil-1 households in three kecamatan, some covered in semester 1 or 2 of YEAR, the gap
    figures computed; Batang only for a secretariat of another region."""
    load_region("33.24")
    load_region("33.25")
    kendal = region(KENDAL)
    opd_org = OrganizationFactory(opd=True, region=kendal, name="Dinas Sosial Uji")
    csr_org = OrganizationFactory(company=True, region=kendal, name="PT Mitra Uji Kendal")
    food = ProgramFactory(organization=opd_org, year=YEAR, code="pangan-uji")
    capital = ProgramFactory(organization=csr_org, year=YEAR, code="modal-uji")
    for index, (n_desil1, n_covered_s1, n_covered_s2) in enumerate([(5, 2, 1), (4, 0, 1), (3, 0, 0)]):
        desa = _kecamatan_desa(index)
        households = HouseholdFactory.create_batch(n_desil1, desa=desa, desil=1)
        HouseholdFactory.create_batch(2, desa=desa, desil=3)
        for household in households[:n_covered_s1]:
            InterventionFactory(program=food, household=household, delivered_on=dt.date(YEAR, 2, 10))
        for household in households[n_covered_s1 : n_covered_s1 + n_covered_s2]:
            InterventionFactory(program=capital, household=household, delivered_on=dt.date(YEAR, 8, 20))
    RegionTarget.objects.create(
        region=kendal, year=YEAR, poverty_rate_target="6.65", poverty_rate_actual="7.01", poor_population=60000
    )
    ActivityReport.objects.create(
        organization=opd_org,
        period_kind=PeriodKind.SEMESTER,
        period_year=YEAR,
        period_number=1,
        status=ActivityReportStatus.SUBMITTED,
    )
    gap_recompute_now(year=YEAR, region_code=KENDAL)
    return World(
        kendal=kendal,
        secretariat=user_with_role(Role.SECRETARIAT, KENDAL),
        leadership=user_with_role(Role.LEADERSHIP, KENDAL),
        opd=user_with_role(Role.OPD_OFFICER, KENDAL, organization=opd_org),
        partner=user_with_role(Role.PARTNER, KENDAL, organization=csr_org),
        batang_secretariat=user_with_role(Role.SECRETARIAT, BATANG),
        opd_org=opd_org,
    )


@pytest.fixture
def world(db: None, settings: Any, tmp_path: Any) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world()


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def generated(world: World, period: str = PeriodicReportPeriod.ANNUAL) -> PeriodicReport:
    report = PeriodicReport.objects.create(
        region=world.kendal, year=YEAR, period=period, requested_by=world.secretariat
    )
    result = periodic.periodic_report_execute(report_id=report.pk)
    assert result is not None
    return result


def sheet_rows(data: bytes, sheet: str) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(row) for row in workbook[sheet].iter_rows(values_only=True)]


def assert_desil1_sheet_equals_summaries(xlsx: bytes) -> None:
    rows = sheet_rows(xlsx, "Desil 1 belum terjangkau")
    assert rows[0][:5] == ("Kode", "Kecamatan", "Keluarga aktif", "Desil 1", "Desil 1 belum terjangkau")
    expected = {
        dotted_region_code(s.region_code): (s.households, s.desil1, s.desil1_uncovered)
        for s in GapSummary.objects.filter(year=YEAR, level=3, parent_code=KENDAL)
    }
    got = {r[0]: (r[2], r[3], r[4]) for r in rows[1:] if r[0] and r[0] in expected}
    assert got == expected
    assert len(expected) == 3
    total = next(r for r in rows if r[1] == "Jumlah")
    kendal = GapSummary.objects.get(year=YEAR, region_code=KENDAL)
    assert (total[2], total[3], total[4]) == (kendal.households, kendal.desil1, kendal.desil1_uncovered)
    assert sorted(v[2] for v in expected.values()) == [2, 3, 3]  # 5-3, 4-1, 3-0 desil-1 households uncovered


# ------------------------------------------------------------------------------------------------- content


def test_generated_report_has_a_pdf_and_an_xlsx_equal_to_the_gap_summaries(world: World) -> None:
    report = generated(world)

    assert report.status == GapRunStatus.DONE and report.progress == 100 and report.message == ""
    pdf = report.pdf.read()
    assert pdf.startswith(b"%PDF") and report.page_count >= 3
    assert report.gap_run_id is not None and report.data_as_of is not None
    xlsx = report.xlsx.read()
    assert_desil1_sheet_equals_summaries(xlsx)
    workbook = load_workbook(io.BytesIO(xlsx), read_only=True)
    assert workbook.sheetnames == [
        "Sampul",
        "Target vs capaian",
        "Cakupan per klaster",
        "Cakupan per jenis bantuan",
        "Per strategi",
        "Per jenis pelaksana",
        "Per OPD-mitra",
        "Desil 1 belum terjangkau",
        "Tumpang tindih",
        "Kebutuhan belum terpenuhi",
        "Graduasi",
        "Laporan kegiatan",
    ]
    cover = dict((r[0], r[1]) for r in sheet_rows(xlsx, "Sampul") if len(r) > 1)
    assert str(cover["Data kesenjangan"]).startswith("Data per ")
    assert "perhitungan tahun 2026" in str(cover["Perhitungan yang dipakai"])
    targets = sheet_rows(xlsx, "Target vs capaian")
    assert targets[1][:3] == (YEAR, 6.65, 7.01)


def test_semester_counts_programme_realisation_by_its_own_dates(world: World) -> None:
    first = periodic.collect(region=world.kendal, year=YEAR, period=PeriodicReportPeriod.SEMESTER_1)
    second = periodic.collect(region=world.kendal, year=YEAR, period=PeriodicReportPeriod.SEMESTER_2)
    annual = periodic.collect(region=world.kendal, year=YEAR, period=PeriodicReportPeriod.ANNUAL)

    def households_by_owner(content: periodic.ReportContent) -> dict[str, int]:
        return {row[0]: row[3] for row in content.table("organization").rows}

    assert households_by_owner(first) == {"Dinas Sosial Uji": 2}
    assert households_by_owner(second) == {"PT Mitra Uji Kendal": 2}
    assert households_by_owner(annual) == {"Dinas Sosial Uji": 2, "PT Mitra Uji Kendal": 2}
    kinds = {row[0]: row[2] for row in annual.table("owner_kind").rows}
    assert kinds == {str(OrganizationKind.OPD.label): 2, str(OrganizationKind.COMPANY.label): 2}
    # The gap figures are the year's in every period, and the cover says so.
    assert first.table("desil1").rows == annual.table("desil1").rows
    assert "per tahun kalender" in periodic.year_note(first)
    assert "per tahun kalender" not in periodic.year_note(annual)


def test_activity_report_status_per_organization_and_period(world: World) -> None:
    first = periodic.collect(region=world.kendal, year=YEAR, period=PeriodicReportPeriod.SEMESTER_1)
    annual = periodic.collect(region=world.kendal, year=YEAR, period=PeriodicReportPeriod.ANNUAL)

    rows = {row[0]: row[2:] for row in first.table("activity").rows}
    assert rows["Dinas Sosial Uji"][0].startswith("Belum mengirim") is False
    assert rows["Dinas Sosial Uji"][0].startswith("Diajukan")
    assert rows["PT Mitra Uji Kendal"] == ["Belum mengirim"]
    assert first.table("activity").headers[2:] == [f"Semester 1 {YEAR}"]
    annual_rows = {row[0]: row[2:] for row in annual.table("activity").rows}
    assert annual_rows["Dinas Sosial Uji"][1] == "Belum mengirim"
    assert len(annual.table("activity").headers) == 4


def test_chart_is_inline_svg_with_one_bar_per_kecamatan_and_escaped_labels() -> None:
    svg = str(periodic.bar_chart_svg([("Kaliwungu <Selatan>", 12), ("Boja", 3)], title="Desil 1 & grafik"))
    assert svg.startswith("<svg") and svg.count("<rect") == 2
    assert "Kaliwungu &lt;Selatan&gt;" in svg and "Desil 1 &amp; grafik" in svg
    assert "<script" not in svg
    assert str(periodic.bar_chart_svg([], title="x")) == ""


def test_a_report_is_claimed_once(world: World) -> None:
    report = generated(world)
    assert periodic.periodic_report_execute(report_id=report.pk) is None
    assert PeriodicReport.objects.get(pk=report.pk).status == GapRunStatus.DONE


def test_failure_leaves_status_failed_with_an_indonesian_message(world: World, monkeypatch: Any) -> None:
    def broken(content: periodic.ReportContent) -> tuple[bytes, int]:
        raise RuntimeError("pango tidak ada")

    monkeypatch.setattr(periodic, "render_pdf", broken)
    report = PeriodicReport.objects.create(region=world.kendal, year=YEAR, period="s1", requested_by=world.secretariat)

    result = periodic.periodic_report_execute(report_id=report.pk)

    assert result is not None
    stored = PeriodicReport.objects.get(pk=report.pk)
    assert stored.status == GapRunStatus.FAILED and stored.finished_at is not None
    assert stored.message == "Laporan gagal dibuat: pango tidak ada"
    assert not stored.pdf and not stored.xlsx
    page = login(world.secretariat).get(reverse("reports_periodic:list"))
    assert "Laporan gagal dibuat: pango tidak ada" in page.content.decode()


def test_report_without_a_gap_computation_says_so(world: World) -> None:
    content = periodic.collect(region=world.kendal, year=YEAR - 5, period=PeriodicReportPeriod.ANNUAL)
    assert content.data_as_of is None and content.kpis == []
    assert "Belum ada perhitungan kesenjangan tahun 2021" in periodic.year_note(content)
    pdf, pages = periodic.render_pdf(content)
    assert pdf.startswith(b"%PDF") and pages >= 2


# ---------------------------------------------------------------------------------------------- pages


def test_secretariat_requests_a_report_queued_on_commit(world: World, django_capture_on_commit_callbacks: Any) -> None:
    client = login(world.secretariat)
    page = client.get(reverse("reports_periodic:list"))
    assert page.status_code == 200 and 'data-testid="periodic-report-form"' in page.content.decode()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("reports_periodic:list"), {"year": YEAR, "period": "s2", "wilayah": KENDAL})

    assert response.status_code == 302
    assert len(callbacks) == 1  # the task is sent once the request's transaction commits
    report = PeriodicReport.objects.get()
    assert (report.region_id, report.year, report.period, report.status) == (KENDAL, YEAR, "s2", "queued")
    assert report.requested_by == world.secretariat
    row = client.get(reverse("reports_periodic:status", args=[report.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in row and 'data-status="queued"' in row


def test_leadership_and_opd_list_and_download_but_cannot_request(world: World) -> None:
    report = generated(world)
    for user in (world.leadership, world.opd):
        client = login(user)
        page = client.get(reverse("reports_periodic:list"))
        body = page.content.decode()
        assert page.status_code == 200
        assert 'data-testid="periodic-report-form"' not in body and 'data-testid="periodic-read-only"' in body
        assert reverse("reports_periodic:download", args=[report.pk, "pdf"]) in body
        pdf = client.get(reverse("reports_periodic:download", args=[report.pk, "pdf"]))
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
        assert b"".join(pdf.streaming_content).startswith(b"%PDF")
        xlsx = client.get(reverse("reports_periodic:download", args=[report.pk, "xlsx"]))
        assert xlsx.status_code == 200
        assert_desil1_sheet_equals_summaries(b"".join(xlsx.streaming_content))
        refused = client.post(reverse("reports_periodic:list"), {"year": YEAR, "period": "s1"})
        assert refused.status_code == 403
    assert PeriodicReport.objects.count() == 1


def test_other_region_gets_404_and_partner_403(world: World) -> None:
    report = generated(world)
    batang = login(world.batang_secretariat)
    for url in (
        reverse("reports_periodic:download", args=[report.pk, "pdf"]),
        reverse("reports_periodic:download", args=[report.pk, "xlsx"]),
        reverse("reports_periodic:status", args=[report.pk]),
    ):
        assert batang.get(url).status_code == 404
    listing = batang.get(reverse("reports_periodic:list"), {"wilayah": KENDAL}).content.decode()
    assert 'data-testid="periodic-report-empty"' in listing  # falls back to its own region: no Kendal rows
    assert (
        batang.post(reverse("reports_periodic:list"), {"year": YEAR, "period": "s1", "wilayah": KENDAL}).status_code
        == 302
    )
    assert set(PeriodicReport.objects.values_list("region_id", flat=True)) == {KENDAL, BATANG}

    partner = login(world.partner)
    assert partner.get(reverse("reports_periodic:list")).status_code == 403
    assert partner.get(reverse("reports_periodic:download", args=[report.pk, "pdf"])).status_code == 403
    anonymous = Client().get(reverse("reports_periodic:download", args=[report.pk, "pdf"]))
    assert anonymous.status_code == 302 and "next=" in anonymous["Location"]
    assert (
        login(world.secretariat).get(reverse("reports_periodic:download", args=[report.pk, "exe"])).status_code == 404
    )


def test_request_service_refuses_leadership_and_foreign_region(world: World) -> None:
    from tkpk.exceptions import DomainError

    with pytest.raises(DomainError):
        periodic.periodic_report_request(user=world.leadership, region=world.kendal, year=YEAR, period="s1")
    with pytest.raises(DomainError):
        periodic.periodic_report_request(user=world.batang_secretariat, region=world.kendal, year=YEAR, period="s1")
    assert not PeriodicReport.objects.exists()


# ------------------------------------------------------------------------------------------ real worker


@pytest.fixture
def worker_world(transactional_db: None, celery_worker_process: CeleryWorker) -> Iterator[World]:
    # The worker shares MEDIA_ROOT (its own settings): remove the files the test made it write.
    yield build_world()
    for report in PeriodicReport.objects.all():
        for stored in (report.pdf, report.xlsx):
            if stored:
                stored.delete(save=False)


@pytest.mark.postgres
@pytest.mark.celery_worker
def test_report_is_generated_by_the_worker_with_progress(
    worker_world: World, celery_worker_process: CeleryWorker
) -> None:
    with transaction.atomic():
        report = periodic.periodic_report_request(
            user=worker_world.secretariat, region=worker_world.kendal, year=YEAR, period="s1"
        )
        # Nothing is sent before the commit: the worker cannot see a queued row that does not exist yet.
        assert PeriodicReport.objects.get(pk=report.pk).task_id == ""

    deadline = time.monotonic() + 120
    seen: set[str] = set()
    while time.monotonic() < deadline:
        current = PeriodicReport.objects.get(pk=report.pk)
        seen.add(current.status)
        if current.status in (GapRunStatus.DONE, GapRunStatus.FAILED):
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"report not finished; worker log:\n{celery_worker_process.log_tail()}")

    assert current.status == GapRunStatus.DONE, current.message
    assert current.task_id and current.started_at and current.finished_at and current.progress == 100
    pdf = current.pdf.read()
    assert pdf.startswith(b"%PDF") and current.page_count >= 3
    assert_desil1_sheet_equals_summaries(current.xlsx.read())
    download = login(worker_world.leadership).get(reverse("reports_periodic:download", args=[current.pk, "pdf"]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == pdf
