"""Activity reports (laporan kegiatan): periods, figures from interventions, the submit/review workflow and its
refusals, the secretariat's board, the period export, and the pages (access per role, errors beside fields,
query counts)."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from programs import activity
from programs.activity import BoardStatus, Period
from programs.models import ActivityReport, ActivityReportStatus, InterventionStatus, PeriodKind
from tests import factories as f
from tkpk.exceptions import DomainError
from tkpk.models import OrganizationKind
from tkpk.scoping import Role, scope_for

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]

YEAR = dt.date.today().year - 1  # a finished year: every period of it may be reported
S1 = Period(PeriodKind.SEMESTER, YEAR, 1)
S2 = Period(PeriodKind.SEMESTER, YEAR, 2)


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture
def officer() -> Any:
    return f.user_with_role(Role.OPD_OFFICER, first_name="Budi", last_name="Santoso")


@pytest.fixture
def secretariat() -> Any:
    return f.user_with_role(Role.SECRETARIAT, first_name="Rina", last_name="Sektap")


@pytest.fixture
def leadership() -> Any:
    return f.user_with_role(Role.LEADERSHIP)


def program(organization: Any, **kw: Any) -> Any:
    kw.setdefault("year", YEAR)
    return f.ProgramFactory(organization=organization, **kw)


def deliver(prog: Any, household: Any, day: dt.date, value: int = 500_000, **kw: Any) -> Any:
    return f.InterventionFactory(program=prog, household=household, delivered_on=day, value=value, **kw)


def submitted_report(officer: Any, period: Period = S2, narrative: str = "Penyaluran bantuan pangan.") -> Any:
    report = activity.activity_report_start(actor=officer, organization=officer.test_organization, period=period)
    activity.activity_report_update(actor=officer, report=report, narrative=narrative, obstacles="")
    return activity.activity_report_submit(actor=officer, report=report)


# ----------------------------------------------------------------------------------------------- periods


def test_semester_and_quarter_ranges() -> None:
    assert (S1.start, S1.end) == (dt.date(YEAR, 1, 1), dt.date(YEAR, 6, 30))
    assert (S2.start, S2.end) == (dt.date(YEAR, 7, 1), dt.date(YEAR, 12, 31))
    q1 = Period(PeriodKind.QUARTER, 2024, 1)
    assert (q1.start, q1.end) == (dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    q3 = Period(PeriodKind.QUARTER, 2024, 3)
    assert (q3.start, q3.end) == (dt.date(2024, 7, 1), dt.date(2024, 9, 30))
    assert S1.previous() == Period(PeriodKind.SEMESTER, YEAR - 1, 2)
    assert q1.previous() == Period(PeriodKind.QUARTER, 2023, 4)
    assert S2.label == f"Semester 2 {YEAR}"
    assert q3.label == "Triwulan 3 2024"


def test_period_current_follows_the_setting() -> None:
    day = dt.date(2026, 8, 15)
    assert activity.period_current(today=day) == Period(PeriodKind.SEMESTER, 2026, 2)
    with override_settings(ACTIVITY_REPORT_PERIOD="quarter"):
        assert activity.period_current(today=day) == Period(PeriodKind.QUARTER, 2026, 3)
        assert activity.period_from_key("2026-4") == Period(PeriodKind.QUARTER, 2026, 4)
    assert activity.period_from_key("2026-3") is None  # no third semester
    assert activity.period_from_key("2026-0") is None
    assert activity.period_from_key("abc") is None
    assert activity.period_from_key("2026-2") == Period(PeriodKind.SEMESTER, 2026, 2)
    recent = activity.period_recent(count=3, today=day)
    assert [p.key for p in recent] == ["2026-2", "2026-1", "2025-2"]


# ----------------------------------------------------------------------------------------------- figures


def test_figures_count_only_delivered_interventions_inside_the_period(officer: Any) -> None:
    org = officer.test_organization
    recurring = program(org, code="sembako", once_per_year=False, target_households=50, budget=75_000_000)
    households = [f.HouseholdFactory() for _ in range(5)]
    deliver(recurring, households[0], dt.date(YEAR, 7, 5), 100_000)
    deliver(recurring, households[0], dt.date(YEAR, 8, 5), 100_000)  # same household again: counted once
    deliver(recurring, households[1], dt.date(YEAR, 12, 31), 250_000)  # last day of the semester
    deliver(recurring, households[2], dt.date(YEAR, 6, 30), 999_000)  # semester 1
    deliver(recurring, households[2], dt.date(YEAR + 1, 1, 1), 999_000)  # next year
    deliver(recurring, households[3], dt.date(YEAR, 9, 1), 999_000, status=InterventionStatus.CANCELLED,
            cancel_reason="Salah sasaran")  # fmt: skip
    deliver(recurring, households[4], dt.date(YEAR, 9, 1), 999_000, status=InterventionStatus.PLANNED)
    idle = program(org, code="rtlh", target_households=10, budget=200_000_000)  # running, nothing delivered
    stopped = program(org, code="lama", is_active=False)  # inactive, delivered in the period: still listed
    deliver(stopped, households[1], dt.date(YEAR, 10, 1), 40_000)
    program(org, code="tahun-lalu", year=YEAR - 1)  # ended before the period, nothing delivered: not listed
    program(org, code="nonaktif", is_active=False)  # inactive, nothing delivered: not listed
    other = program(f.OrganizationFactory(opd=True), code="lain")
    deliver(other, households[0], dt.date(YEAR, 7, 5), 123_000)

    figures = activity.activity_figures(organization=org, period=S2)

    by_code = {row["code"]: row for row in figures}
    assert set(by_code) == {"sembako", "rtlh", "lama"}
    assert by_code["sembako"] | {"program_id": 0} == {
        "program_id": 0, "code": "sembako", "name": recurring.name, "year": YEAR, "target_households": 50,
        "budget": 75_000_000, "households": 2, "interventions": 3, "value": 450_000,
    }  # fmt: skip
    assert by_code["sembako"]["program_id"] == recurring.pk
    assert (by_code["rtlh"]["households"], by_code["rtlh"]["interventions"], by_code["rtlh"]["value"]) == (0, 0, 0)
    assert by_code["rtlh"]["budget"] == 200_000_000 and idle.pk == by_code["rtlh"]["program_id"]
    assert (by_code["lama"]["households"], by_code["lama"]["value"]) == (1, 40_000)
    assert activity.figures_totals(figures) == {
        "target_households": 50 + 10 + stopped.target_households,
        "budget": 75_000_000 + 200_000_000 + int(stopped.budget),
        "households": 3,
        "interventions": 4,
        "value": 490_000,
    }
    semester_one = {row["code"]: row for row in activity.activity_figures(organization=org, period=S1)}
    assert (semester_one["sembako"]["households"], semester_one["sembako"]["value"]) == (1, 999_000)


def test_figures_are_one_query(officer: Any, django_assert_num_queries: Any) -> None:
    for n in range(4):
        prog = program(officer.test_organization)
        deliver(prog, f.HouseholdFactory(), dt.date(YEAR, 7, n + 1))
    with django_assert_num_queries(1):
        figures = activity.activity_figures(organization=officer.test_organization, period=S2)
    assert [row["households"] for row in figures] == [1, 1, 1, 1]


# ----------------------------------------------------------------------------------------------- workflow


def test_start_fills_figures_and_is_one_per_period(officer: Any) -> None:
    prog = program(officer.test_organization)
    deliver(prog, f.HouseholdFactory(), dt.date(YEAR, 8, 1), 750_000)
    report = activity.activity_report_start(actor=officer, organization=officer.test_organization, period=S2)
    assert report.status == ActivityReportStatus.DRAFT
    assert (report.period_kind, report.period_year, report.period_number) == ("semester", YEAR, 2)
    assert report.region_id == "3324"
    assert report.figures[0]["value"] == 750_000
    assert report.figures_updated_at is not None
    assert [e["status"] for e in report.status_log] == ["draft"]
    again = activity.activity_report_start(actor=officer, organization=officer.test_organization, period=S2)
    assert again.pk == report.pk
    assert ActivityReport.objects.count() == 1


def test_start_refusals(officer: Any, secretariat: Any) -> None:
    org = officer.test_organization
    other_officer = f.user_with_role(Role.OPD_OFFICER)
    with pytest.raises(DomainError) as exc:
        activity.activity_report_start(actor=other_officer, organization=org, period=S2)
    assert exc.value.code == "forbidden"
    with pytest.raises(DomainError) as exc:
        activity.activity_report_start(actor=secretariat, organization=org, period=S2)
    assert exc.value.code == "forbidden"
    future = activity.period_current().previous()
    future = Period(future.kind, future.year + 2, future.number)
    with pytest.raises(DomainError) as exc:
        activity.activity_report_start(actor=officer, organization=org, period=future)
    assert exc.value.code == "future_period"
    assert not ActivityReport.objects.exists()


def test_refresh_picks_up_new_deliveries(officer: Any) -> None:
    prog = program(officer.test_organization)
    report = activity.activity_report_start(actor=officer, organization=officer.test_organization, period=S2)
    assert report.figures[0]["households"] == 0
    deliver(prog, f.HouseholdFactory(), dt.date(YEAR, 11, 2), 300_000)
    report = activity.activity_report_refresh_figures(actor=officer, report=report)
    report.refresh_from_db()
    assert (report.figures[0]["households"], report.figures[0]["value"]) == (1, 300_000)


def test_full_workflow_with_return_and_resubmission(officer: Any, secretariat: Any) -> None:
    report = activity.activity_report_start(actor=officer, organization=officer.test_organization, period=S2)
    with pytest.raises(DomainError) as exc:
        activity.activity_report_submit(actor=officer, report=report)
    assert exc.value.code == "narrative_required" and exc.value.extra["field"] == "narrative"
    report = activity.activity_report_update(actor=officer, report=report, narrative="  Kegiatan A  ", obstacles="B")
    assert (report.narrative, report.obstacles) == ("Kegiatan A", "B")
    with pytest.raises(DomainError) as exc:
        activity.activity_report_accept(actor=secretariat, report=report)
    assert exc.value.code == "not_submitted"

    report = activity.activity_report_submit(actor=officer, report=report)
    assert report.status == ActivityReportStatus.SUBMITTED
    assert report.submitted_by == officer and report.submitted_at is not None
    for call in (
        lambda: activity.activity_report_update(actor=officer, report=report, narrative="x", obstacles=""),
        lambda: activity.activity_report_refresh_figures(actor=officer, report=report),
        lambda: activity.activity_report_submit(actor=officer, report=report),
    ):
        with pytest.raises(DomainError) as exc:
            call()
        assert exc.value.code == "not_editable"
    with pytest.raises(DomainError) as exc:
        activity.activity_report_return(actor=secretariat, report=report, note="   ")
    assert exc.value.code == "note_required" and exc.value.extra["field"] == "note"

    report = activity.activity_report_return(actor=secretariat, report=report, note="Lengkapi jumlah keluarga.")
    assert report.status == ActivityReportStatus.RETURNED
    assert (report.review_note, report.reviewed_by) == ("Lengkapi jumlah keluarga.", secretariat)
    report = activity.activity_report_update(
        actor=officer, report=report, narrative="Kegiatan A (diperbaiki)", obstacles=""
    )
    report = activity.activity_report_submit(actor=officer, report=report)
    report = activity.activity_report_accept(actor=secretariat, report=report)
    assert report.status == ActivityReportStatus.ACCEPTED
    with pytest.raises(DomainError):
        activity.activity_report_return(actor=secretariat, report=report, note="Terlambat")
    with pytest.raises(DomainError):
        activity.activity_report_submit(actor=officer, report=report)

    report.refresh_from_db()
    log = report.status_log
    assert [e["status"] for e in log] == ["draft", "submitted", "returned", "submitted", "accepted"]
    assert log[2]["note"] == "Lengkapi jumlah keluarga." and log[2]["by_name"] == "Rina Sektap"
    assert log[1]["by"] == officer.pk
    timeline = activity.report_timeline(report)
    assert [t.label for t in timeline][-1] == "Diterima sekretariat"
    assert all(t.at is not None for t in timeline)


def test_review_refusals(officer: Any, leadership: Any) -> None:
    report = submitted_report(officer)
    kukar_secretariat = f.user_with_role(Role.SECRETARIAT, region_code=f.KUTAI_KARTANEGARA)
    province_secretariat = f.user_with_role(Role.SECRETARIAT, region_code="33")
    for actor in (kukar_secretariat, province_secretariat, leadership, officer):
        with pytest.raises(DomainError) as exc:
            activity.activity_report_accept(actor=actor, report=report)
        assert exc.value.code == "forbidden"
    report.refresh_from_db()
    assert report.status == ActivityReportStatus.SUBMITTED


def test_partner_reports_too() -> None:
    partner = f.user_with_role(Role.PARTNER, org_kind=OrganizationKind.BAZNAS)
    report = activity.activity_report_start(actor=partner, organization=partner.test_organization, period=S1)
    assert report.status == ActivityReportStatus.DRAFT


@override_settings(ACTIVITY_REPORT_PERIOD="quarter")
def test_quarter_configuration(officer: Any) -> None:
    prog = program(officer.test_organization, once_per_year=False)
    household = f.HouseholdFactory()
    deliver(prog, household, dt.date(YEAR, 7, 1), 100_000)  # quarter 3
    deliver(prog, household, dt.date(YEAR, 10, 1), 200_000)  # quarter 4
    q3 = activity.period_from_key(f"{YEAR}-3")
    assert q3 == Period(PeriodKind.QUARTER, YEAR, 3)
    report = activity.activity_report_start(actor=officer, organization=officer.test_organization, period=q3)
    assert (report.period_kind, report.period_number, report.period_label) == ("quarter", 3, f"Triwulan 3 {YEAR}")
    assert report.figures[0]["value"] == 100_000
    assert activity.period_current().kind == PeriodKind.QUARTER


# --------------------------------------------------------------------------------------------------- board


@pytest.fixture
def region_world(officer: Any, secretariat: Any) -> dict[str, Any]:
    """Kendal: the officer's agency (submitted), a BAZNAS (nothing), an agency with a draft, a bank (returned),
    a company (accepted); plus an inactive agency, the secretariat itself and a Kutai Kartanegara agency, which
    never appear."""
    kendal = f.region(f.KENDAL)
    baznas = f.OrganizationFactory(kind=OrganizationKind.BAZNAS, name="BAZNAS Kendal", region=kendal)
    drafter = f.user_with_role(Role.OPD_OFFICER)
    banker = f.user_with_role(Role.PARTNER, org_kind=OrganizationKind.BANK)
    company = f.user_with_role(Role.PARTNER)
    f.OrganizationFactory(opd=True, name="Dinas Lama", is_active=False, region=kendal)
    kukar = f.user_with_role(Role.OPD_OFFICER, region_code=f.KUTAI_KARTANEGARA)

    submitted = submitted_report(officer)
    activity.activity_report_start(actor=drafter, organization=drafter.test_organization, period=S2)
    returned = submitted_report(banker)
    activity.activity_report_return(actor=secretariat, report=returned, note="Perbaiki")
    accepted = submitted_report(company)
    activity.activity_report_accept(actor=secretariat, report=accepted)
    submitted_report(kukar)
    submitted_report(officer, period=S1)  # another period
    return {
        "kendal": kendal,
        "submitted": submitted,
        "baznas": baznas,
        "drafter": drafter.test_organization,
        "returned": returned,
        "accepted": accepted,
    }


def test_board_lists_every_reporting_organization_with_status(
    secretariat: Any, officer: Any, region_world: dict[str, Any], django_assert_num_queries: Any
) -> None:
    scope_for(secretariat)  # the scope is read once per request
    with django_assert_num_queries(1):
        board = activity.activity_board(user=secretariat, region=region_world["kendal"], period=S2)
    statuses = {row.organization_name: row.board_status for row in board.rows}
    assert statuses == {
        officer.test_organization.name: BoardStatus.SUBMITTED,
        "BAZNAS Kendal": BoardStatus.NOT_SUBMITTED,
        region_world["drafter"].name: BoardStatus.NOT_SUBMITTED,
        region_world["returned"].organization.name: BoardStatus.RETURNED,
        region_world["accepted"].organization.name: BoardStatus.ACCEPTED,
    }
    assert board.total == 5
    assert board.counts == {"belum": 2, "submitted": 1, "returned": 1, "accepted": 1}
    labels = {row.organization_name: row.status_label for row in board.rows}
    assert labels["BAZNAS Kendal"] == "Belum mengirim"
    assert labels[region_world["drafter"].name] == "Belum mengirim (masih draf)"

    not_submitted = activity.activity_board(
        user=secretariat, region=region_world["kendal"], period=S2, status=BoardStatus.NOT_SUBMITTED
    )
    assert {row.organization_name for row in not_submitted.rows} == {"BAZNAS Kendal", region_world["drafter"].name}
    assert not_submitted.total == 5  # counts still cover every organization

    empty_period = activity.activity_board(user=secretariat, region=region_world["kendal"], period=S1.previous())
    assert empty_period.counts["belum"] == 5


def test_board_regions_per_role(secretariat: Any, leadership: Any, officer: Any) -> None:
    assert [r.code for r in activity.board_regions(user=secretariat)] == ["3324"]
    assert [r.code for r in activity.board_regions(user=leadership)] == ["3324"]
    assert activity.board_regions(user=officer) == []
    assert activity.may_view_board(user=leadership) and not activity.may_view_board(user=officer)


def test_board_of_another_region_shows_nothing_of_it(region_world: dict[str, Any]) -> None:
    kukar_secretariat = f.user_with_role(Role.SECRETARIAT, region_code=f.KUTAI_KARTANEGARA)
    board = activity.activity_board(user=kukar_secretariat, region=region_world["kendal"], period=S2)
    assert board.rows == [] and board.total == 0


# -------------------------------------------------------------------------------------------------- export


def test_export_has_reports_and_figures_sheets(secretariat: Any, officer: Any, region_world: dict[str, Any]) -> None:
    prog = region_world["submitted"].figures  # the officer's report has no program yet
    assert prog == []
    prog = program(officer.test_organization, code="modal-usaha", name="Modal Usaha", budget=50_000_000)
    deliver(prog, f.HouseholdFactory(), dt.date(YEAR, 9, 9), 2_500_000)
    returned = region_world["returned"]
    bank_program = program(returned.organization, code="kur-mikro", name="KUR Mikro")
    deliver(bank_program, f.HouseholdFactory(), dt.date(YEAR, 7, 7), 10_000_000)
    banker = returned.organization.memberships.get().user
    activity.activity_report_refresh_figures(actor=banker, report=returned)
    drafter_org = region_world["drafter"]
    draft = ActivityReport.objects.get(organization=drafter_org)
    draft.narrative = "rahasia draf"
    draft.save()
    submitted = region_world["submitted"]
    ActivityReport.objects.filter(pk=submitted.pk).update(
        figures=activity.activity_figures(organization=officer.test_organization, period=S2)
    )

    buffer = io.BytesIO()
    count = activity.activity_export_write(user=secretariat, region=region_world["kendal"], period=S2, target=buffer)
    assert count == 5

    workbook = load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
    assert workbook.sheetnames == ["Laporan", "Capaian per program"]
    rows = list(workbook["Laporan"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Organisasi", "Jenis", "Periode", "Status")
    by_org = {row[0]: row for row in rows[1:]}
    assert len(by_org) == 5
    officer_row = by_org[officer.test_organization.name]
    assert officer_row[2:4] == (f"Semester 2 {YEAR}", "Diajukan")
    assert isinstance(officer_row[4], dt.datetime)
    assert officer_row[5] == "Budi Santoso"
    assert officer_row[8] == "Penyaluran bantuan pangan."
    assert by_org["BAZNAS Kendal"][3] == "Belum mengirim"
    assert by_org[drafter_org.name][3] == "Belum mengirim (masih draf)"
    assert "rahasia draf" not in by_org[drafter_org.name]
    assert by_org[returned.organization.name][3:8:4] == ("Dikembalikan", "Perbaiki")

    calamine = CalamineWorkbook.from_filelike(io.BytesIO(buffer.getvalue()))
    figures = calamine.get_sheet_by_name("Capaian per program").to_python()
    assert figures[0][:3] == ["Organisasi", "Kode program", "Nama program"]
    body = sorted((row[0], row[1], int(row[6]), int(row[8])) for row in figures[1:])
    assert body == sorted(
        [
            (officer.test_organization.name, "modal-usaha", 1, 2_500_000),
            (returned.organization.name, "kur-mikro", 1, 10_000_000),
        ]
    )


# --------------------------------------------------------------------------------------------------- pages


def test_pages_access_per_role(
    client: Any, officer: Any, secretariat: Any, leadership: Any, region_world: dict[str, Any]
) -> None:
    report = region_world["submitted"]
    pages = {
        "mine": reverse("activity_reports:mine"),
        "board": reverse("activity_reports:board"),
        "export": reverse("activity_reports:export"),
        "detail": reverse("activity_reports:detail", args=[report.pk]),
        "edit": reverse("activity_reports:edit", args=[report.pk]),
        "review": reverse("activity_reports:review", args=[report.pk]),
    }
    expected = {
        officer: {"mine": 200, "board": 403, "export": 403, "detail": 200, "edit": 302, "review": 403},
        secretariat: {"mine": 302, "board": 200, "export": 200, "detail": 200, "edit": 403, "review": 200},
        leadership: {"mine": 302, "board": 200, "export": 200, "detail": 200, "edit": 403, "review": 403},
    }
    for user, codes in expected.items():
        client.force_login(user)
        got = {name: client.get(url).status_code for name, url in pages.items()}
        assert got == codes, user
    stranger = f.user_with_role(Role.OPD_OFFICER)
    client.force_login(stranger)
    assert client.get(pages["detail"]).status_code == 404
    # A draft stays the organization's own until it is submitted.
    draft = ActivityReport.objects.get(organization=region_world["drafter"])
    draft_url = reverse("activity_reports:detail", args=[draft.pk])
    for user in (secretariat, leadership):
        client.force_login(user)
        assert client.get(draft_url).status_code == 404
    client.force_login(draft.organization.memberships.get().user)
    assert client.get(draft_url).status_code == 200
    client.logout()
    assert client.get(pages["mine"]).status_code == 302


def test_leadership_board_is_read_only(client: Any, leadership: Any, region_world: dict[str, Any]) -> None:
    client.force_login(leadership)
    html = client.get(reverse("activity_reports:board"), {"periode": S2.key}).content.decode()
    assert "Tampilan pimpinan bersifat baca saja" in html
    assert reverse("activity_reports:review", args=[region_world["submitted"].pk]) not in html
    detail = client.get(reverse("activity_reports:detail", args=[region_world["submitted"].pk])).content.decode()
    assert "Tinjau laporan" not in detail
    response = client.post(
        reverse("activity_reports:review", args=[region_world["submitted"].pk]), {"decision": "accept"}
    )
    assert response.status_code == 403


def test_officer_fills_and_submits_through_the_pages(client: Any, officer: Any) -> None:
    prog = program(officer.test_organization, year=dt.date.today().year)
    deliver(prog, f.HouseholdFactory(), dt.date.today(), 600_000)
    client.force_login(officer)
    current = activity.period_current()
    page = client.get(reverse("activity_reports:mine")).content.decode()
    assert current.label in page
    response = client.post(
        reverse("activity_reports:start"), {"organization": officer.test_organization.pk, "period": current.key}
    )
    report = ActivityReport.objects.get()
    assert response["Location"] == reverse("activity_reports:edit", args=[report.pk])
    edit = client.get(response["Location"]).content.decode()
    assert "600.000" in edit

    # Submitting without a narrative: the error is shown beside the field, the obstacles typed are kept.
    response = client.post(response["Location"], {"narrative": "", "obstacles": "Hujan", "action": "submit"})
    assert response.status_code == 200
    assert response.context["form"].errors["narrative"] == ["Isi uraian kegiatan sebelum mengajukan laporan."]
    assert 'data-testid="narrative-error"' in response.content.decode()
    report.refresh_from_db()
    assert (report.status, report.obstacles) == (ActivityReportStatus.DRAFT, "Hujan")

    url = reverse("activity_reports:edit", args=[report.pk])
    response = client.post(url, {"narrative": "Bantuan tersalur", "obstacles": "Hujan", "action": "submit"})
    assert response["Location"] == reverse("activity_reports:detail", args=[report.pk])
    report.refresh_from_db()
    assert report.status == ActivityReportStatus.SUBMITTED
    # Read-only now: the edit page sends the officer to the detail page and a POST is refused.
    assert client.get(url)["Location"] == reverse("activity_reports:detail", args=[report.pk])
    response = client.post(url, {"narrative": "ubah", "action": "save"})
    assert "tidak dapat diubah" in response.content.decode()
    report.refresh_from_db()
    assert report.narrative == "Bantuan tersalur"


def test_refresh_button_recomputes_figures(client: Any, officer: Any) -> None:
    prog = program(officer.test_organization)
    report = activity.activity_report_start(actor=officer, organization=officer.test_organization, period=S2)
    deliver(prog, f.HouseholdFactory(), dt.date(YEAR, 8, 8), 321_000)
    client.force_login(officer)
    url = reverse("activity_reports:edit", args=[report.pk])
    response = client.post(url, {"narrative": "draf", "obstacles": "", "action": "refresh"})
    assert response["Location"] == url
    report.refresh_from_db()
    assert (report.narrative, report.figures[0]["value"]) == ("draf", 321_000)


def test_secretariat_returns_with_note_beside_the_field(client: Any, secretariat: Any, officer: Any) -> None:
    report = submitted_report(officer)
    client.force_login(secretariat)
    url = reverse("activity_reports:review", args=[report.pk])
    response = client.post(url, {"decision": "return", "note": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["note"] == ["Tuliskan catatan: apa yang perlu diperbaiki."]
    response = client.post(url, {"decision": "return", "note": "Tambahkan foto kegiatan."})
    assert response.status_code == 302 and f"periode={S2.key}" in response["Location"]
    report.refresh_from_db()
    assert (report.status, report.review_note) == (ActivityReportStatus.RETURNED, "Tambahkan foto kegiatan.")
    client.force_login(officer)
    page = client.get(reverse("activity_reports:edit", args=[report.pk])).content.decode()
    assert "Tambahkan foto kegiatan." in page


def test_board_page_filters_and_export_download(client: Any, secretariat: Any, region_world: dict[str, Any]) -> None:
    client.force_login(secretariat)
    response = client.get(reverse("activity_reports:board"), {"periode": S2.key, "status": "belum"})
    rows = response.context["board"].rows
    assert {row.organization_name for row in rows} == {"BAZNAS Kendal", region_world["drafter"].name}
    html = response.content.decode()
    assert 'data-testid="count-belum">2<' in html
    response = client.get(reverse("activity_reports:export"), {"periode": S2.key, "region": "3324"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"laporan-kegiatan-3324-{YEAR}-semester-2.xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content), read_only=True)["Laporan"]
    assert sum(1 for _ in sheet.iter_rows()) == 6
    # A malformed period falls back to the current one instead of failing.
    assert client.get(reverse("activity_reports:board"), {"periode": "bukan"}).status_code == 200


def test_board_and_list_query_counts(
    client: Any, secretariat: Any, officer: Any, django_assert_max_num_queries: Any
) -> None:
    kendal = f.region(f.KENDAL)
    for n in range(12):
        member = f.user_with_role(Role.OPD_OFFICER if n % 2 else Role.PARTNER)
        if n % 3:
            report = submitted_report(member)
            if n % 3 == 2:
                activity.activity_report_accept(actor=secretariat, report=report)
    f.OrganizationFactory(kind=OrganizationKind.NGO, region=kendal)
    for period in (S1, S2, S1.previous()):
        submitted_report(officer, period=period)
    client.force_login(secretariat)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("activity_reports:board"), {"periode": S2.key})
    assert response.context["board"].total == 14
    with django_assert_max_num_queries(6):
        response = client.get(reverse("activity_reports:export"), {"periode": S2.key})
    assert response.status_code == 200
    client.force_login(officer)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("activity_reports:mine"))
    assert len(response.context["reports"]) == 3
    report = response.context["reports"][0]
    with django_assert_max_num_queries(6):
        response = client.get(reverse("activity_reports:detail", args=[report.pk]))
    assert len(response.context["timeline"]) == 2


# ------------------------------------------------------------------------------------------------ setting

SETTING_PROBE = (
    "import django; django.setup(); from django.conf import settings; print(settings.ACTIVITY_REPORT_PERIOD)"
)


@pytest.mark.parametrize(("value", "expected"), [(None, "semester"), ("quarter", "quarter"), ("bulanan", None)])
def test_period_setting_from_the_environment(value: str | None, expected: str | None) -> None:
    """Read once per process, so checked in a fresh interpreter; anything but semester/quarter refuses to start."""
    env = {k: v for k, v in os.environ.items() if k != "ACTIVITY_REPORT_PERIOD"}
    env["DJANGO_SETTINGS_MODULE"] = "tkpk.settings"
    if value is not None:
        env["ACTIVITY_REPORT_PERIOD"] = value
    result = subprocess.run(
        [sys.executable, "-c", SETTING_PROBE], env=env, capture_output=True, text=True, cwd=BASE_DIR, timeout=120
    )
    if expected is None:
        assert result.returncode != 0
        assert "ACTIVITY_REPORT_PERIOD must be 'semester' or 'quarter'" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == expected
