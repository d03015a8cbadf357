"""Activity reports (laporan kegiatan) of agencies and partners to the TKPK secretariat.

One report per organization and period (semester by default, quarter when ``ACTIVITY_REPORT_PERIOD`` says
so). Its figures are filled from the organization's delivered interventions in the period; the organization
writes what it did and what stood in its way, submits, and the secretariat of its region accepts it or
returns it with a note (then the organization edits and submits again).

Services (writes) check who may act and which status allows it; selectors (reads) start from ``for_user``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, FilteredRelation, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from programs.models import (
    ActivityReport,
    ActivityReportStatus,
    Intervention,
    InterventionStatus,
    PeriodKind,
    Program,
)
from tkpk.exceptions import DomainError
from tkpk.history import history_context
from tkpk.models import Organization, OrganizationKind, Region
from tkpk.scoping import ROLE_CAPABILITIES, Cap, Role, Scope, scope_for

# Organizations that report to the secretariat: agencies and partners (not the secretariat itself).
REPORTING_KINDS = (
    OrganizationKind.OPD,
    OrganizationKind.COMPANY,
    OrganizationKind.BAZNAS,
    OrganizationKind.BANK,
    OrganizationKind.NGO,
)
EDITABLE_STATUSES = (ActivityReportStatus.DRAFT, ActivityReportStatus.RETURNED)


# ------------------------------------------------------------------------------------------------ periods


@dataclass(frozen=True)
class Period:
    """A reporting period: semester 1-2 or quarter 1-4 of a year."""

    kind: str
    year: int
    number: int

    @property
    def months(self) -> int:
        return 6 if self.kind == PeriodKind.SEMESTER else 3

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, (self.number - 1) * self.months + 1, 1)

    @property
    def end(self) -> dt.date:
        last_month = self.number * self.months
        if last_month == 12:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, last_month + 1, 1) - dt.timedelta(days=1)

    @property
    def key(self) -> str:
        """URL form: ``2026-1``."""
        return f"{self.year}-{self.number}"

    @property
    def label(self) -> str:
        kind = _("Semester") if self.kind == PeriodKind.SEMESTER else _("Triwulan")
        return f"{kind} {self.number} {self.year}"

    @property
    def per_year(self) -> int:
        return 12 // self.months

    def previous(self) -> Period:
        if self.number == 1:
            return Period(self.kind, self.year - 1, self.per_year)
        return Period(self.kind, self.year, self.number - 1)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def period_kind() -> str:
    """The configured period kind (``ACTIVITY_REPORT_PERIOD``)."""
    kind = str(getattr(settings, "ACTIVITY_REPORT_PERIOD", PeriodKind.SEMESTER))
    return kind if kind in PeriodKind.values else PeriodKind.SEMESTER


def period_of(day: dt.date, kind: str | None = None) -> Period:
    kind = kind or period_kind()
    months = 6 if kind == PeriodKind.SEMESTER else 3
    return Period(kind, day.year, (day.month - 1) // months + 1)


def period_current(*, today: dt.date | None = None, kind: str | None = None) -> Period:
    return period_of(today or timezone.localdate(), kind)


def period_from_key(key: str, *, kind: str | None = None) -> Period | None:
    """``2026-1`` → Period in the configured kind; None when malformed or out of range."""
    kind = kind or period_kind()
    year_text, _sep, number_text = (key or "").partition("-")
    if not (year_text.isdigit() and number_text.isdigit()):
        return None
    year, number = int(year_text), int(number_text)
    per_year = 2 if kind == PeriodKind.SEMESTER else 4
    if not (2000 <= year <= 2100 and 1 <= number <= per_year):
        return None
    return Period(kind, year, number)


def period_recent(*, count: int = 8, today: dt.date | None = None, kind: str | None = None) -> list[Period]:
    """The current period and the ones before it, newest first (for period pickers)."""
    periods = [period_current(today=today, kind=kind)]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return periods


def report_period(report: ActivityReport) -> Period:
    return Period(report.period_kind, report.period_year, report.period_number)


# ------------------------------------------------------------------------------------------------ figures


def activity_figures(*, organization: Organization, period: Period) -> list[dict[str, Any]]:
    """Per program of the organization: households reached (distinct), interventions and value delivered in
    the period, with the program's target and budget. One aggregate query; planned and cancelled records and
    deliveries outside the period do not count. Programs running in the period are listed even with no
    delivery; a program outside it appears only if something was delivered in the period."""
    in_period = Q(
        interventions__status=InterventionStatus.DELIVERED,
        interventions__delivered_on__gte=period.start,
        interventions__delivered_on__lte=period.end,
    )
    delivered_in_period = Intervention.objects.filter(
        program=OuterRef("pk"),
        status=InterventionStatus.DELIVERED,
        delivered_on__gte=period.start,
        delivered_on__lte=period.end,
    )
    rows = (
        Program.objects.filter(organization=organization)
        .filter(
            Q(is_active=True, starts_on__lte=period.end, ends_on__gte=period.start) | Q(Exists(delivered_in_period))
        )
        .values("id", "code", "name", "year", "target_households", "budget")
        .annotate(
            households=Count("interventions__household_id", filter=in_period, distinct=True),
            interventions_count=Count("interventions", filter=in_period),
            delivered_value=Sum("interventions__value", filter=in_period),
        )
        .order_by("year", "code")
    )
    return [
        {
            "program_id": row["id"],
            "code": row["code"],
            "name": row["name"],
            "year": row["year"],
            "target_households": row["target_households"],
            "budget": int(row["budget"] or 0),
            "households": row["households"],
            "interventions": row["interventions_count"],
            "value": int(row["delivered_value"] or Decimal(0)),
        }
        for row in rows
    ]


def figures_totals(figures: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Sums over the program rows (households are summed per program: one household reached by two
    programs counts twice)."""
    keys = ("target_households", "budget", "households", "interventions", "value")
    return {key: sum(int(row.get(key) or 0) for row in figures) for key in keys}


# ------------------------------------------------------------------------------------------------ checks


def _submit_organization_ids(scope: Scope) -> set[int]:
    return {g.organization_id for g in scope.grants if Cap.ACTIVITY_REPORT_SUBMIT in ROLE_CAPABILITIES[g.role]}


def may_submit_for(*, user: Any, organization_id: int) -> bool:
    scope = scope_for(user)
    return scope.can(Cap.ACTIVITY_REPORT_SUBMIT) and organization_id in _submit_organization_ids(scope)


def may_review(*, user: Any, report: ActivityReport) -> bool:
    """The secretariat of the report's own TKPK region (or a superuser)."""
    scope = scope_for(user)
    if not scope.can(Cap.ACTIVITY_REPORT_REVIEW):
        return False
    if scope.is_superuser:
        return True
    return any(g.region_code == report.region_id for g in scope.grants_for(Role.SECRETARIAT))


def may_view_board(*, user: Any) -> bool:
    """The secretariat reviews; leadership reads the board and the reports without acting."""
    scope = scope_for(user)
    return scope.can(Cap.ACTIVITY_REPORT_REVIEW) or bool(scope.grants_for(Role.LEADERSHIP))


def _check_submitter(*, actor: Any, organization_id: int) -> None:
    if not scope_for(actor).can(Cap.ACTIVITY_REPORT_SUBMIT):
        raise DomainError(_("Peran Anda tidak dapat menyusun laporan kegiatan."), code="forbidden")
    if not may_submit_for(user=actor, organization_id=organization_id):
        raise DomainError(_("Anda bukan anggota organisasi pelapor ini."), code="forbidden")


def _check_reviewer(*, actor: Any, report: ActivityReport) -> None:
    if not scope_for(actor).can(Cap.ACTIVITY_REPORT_REVIEW):
        raise DomainError(_("Peran Anda tidak dapat meninjau laporan kegiatan."), code="forbidden")
    if not may_review(user=actor, report=report):
        raise DomainError(_("Laporan ini ditinjau oleh sekretariat TKPK wilayah lain."), code="forbidden")


def _check_editable(report: ActivityReport) -> None:
    if report.status not in EDITABLE_STATUSES:
        raise DomainError(
            _("Laporan berstatus %(status)s tidak dapat diubah.") % {"status": report.get_status_display()},
            code="not_editable",
        )


def _lock(report: ActivityReport) -> ActivityReport:
    locked: ActivityReport = ActivityReport.objects.select_for_update().select_related("organization").get(pk=report.pk)
    return locked


def _log(report: ActivityReport, *, actor: Any, status: str, note: str = "") -> None:
    name = (actor.get_full_name() or actor.get_username()) if actor is not None else ""
    report.status_log = [
        *report.status_log,
        {"status": status, "at": timezone.now().isoformat(), "by": actor.pk, "by_name": name, "note": note},
    ]


# ----------------------------------------------------------------------------------------------- services


@transaction.atomic
def activity_report_start(*, actor: Any, organization: Organization, period: Period) -> ActivityReport:
    """The organization's report for ``period`` as a draft with figures filled in; an existing report of that
    period is returned as it is (one report per organization and period)."""
    _check_submitter(actor=actor, organization_id=organization.pk)
    if organization.kind not in REPORTING_KINDS or not organization.is_active:
        raise DomainError(_("Organisasi ini tidak menyampaikan laporan kegiatan."), code="not_reporting")
    if period.start > timezone.localdate():
        raise DomainError(_("Periode %(period)s belum dimulai.") % {"period": period.label}, code="future_period")
    existing = ActivityReport.objects.filter(
        organization=organization, period_kind=period.kind, period_year=period.year, period_number=period.number
    ).first()
    if existing is not None:
        return existing
    report = ActivityReport(
        organization=organization,
        region_id=organization.region_id,
        period_kind=period.kind,
        period_year=period.year,
        period_number=period.number,
        figures=activity_figures(organization=organization, period=period),
        figures_updated_at=timezone.now(),
    )
    _log(report, actor=actor, status=ActivityReportStatus.DRAFT)
    with history_context(user=actor.pk, action="activity_report_start"):
        report.save()
    return report


@transaction.atomic
def activity_report_refresh_figures(*, actor: Any, report: ActivityReport) -> ActivityReport:
    """Recompute the figures from the interventions (draft or returned reports only)."""
    _check_submitter(actor=actor, organization_id=report.organization_id)
    report = _lock(report)
    _check_editable(report)
    report.figures = activity_figures(organization=report.organization, period=report_period(report))
    report.figures_updated_at = timezone.now()
    with history_context(user=actor.pk, action="activity_report_refresh_figures"):
        report.save(update_fields=["figures", "figures_updated_at", "updated_at"])
    return report


@transaction.atomic
def activity_report_update(*, actor: Any, report: ActivityReport, narrative: str, obstacles: str) -> ActivityReport:
    """Save what the organization did in the period and what stood in its way."""
    _check_submitter(actor=actor, organization_id=report.organization_id)
    report = _lock(report)
    _check_editable(report)
    report.narrative = narrative.strip()
    report.obstacles = obstacles.strip()
    with history_context(user=actor.pk, action="activity_report_update"):
        report.save(update_fields=["narrative", "obstacles", "updated_at"])
    return report


@transaction.atomic
def activity_report_submit(*, actor: Any, report: ActivityReport) -> ActivityReport:
    """Send a draft (or a returned report) to the secretariat; it needs a narrative."""
    _check_submitter(actor=actor, organization_id=report.organization_id)
    report = _lock(report)
    _check_editable(report)
    if not report.narrative.strip():
        raise DomainError(
            _("Isi uraian kegiatan sebelum mengajukan laporan."),
            code="narrative_required",
            extra={"field": "narrative"},
        )
    report.status = ActivityReportStatus.SUBMITTED
    report.submitted_at = timezone.now()
    report.submitted_by = actor
    _log(report, actor=actor, status=ActivityReportStatus.SUBMITTED)
    with history_context(user=actor.pk, action="activity_report_submit"):
        report.save(update_fields=["status", "submitted_at", "submitted_by", "status_log", "updated_at"])
    return report


def _review(*, actor: Any, report: ActivityReport, status: str, note: str, action: str) -> ActivityReport:
    _check_reviewer(actor=actor, report=report)
    report = _lock(report)
    if report.status != ActivityReportStatus.SUBMITTED:
        raise DomainError(
            _("Hanya laporan yang sudah diajukan yang dapat ditinjau (status sekarang: %(status)s).")
            % {"status": report.get_status_display()},
            code="not_submitted",
        )
    report.status = status
    report.review_note = note
    report.reviewed_at = timezone.now()
    report.reviewed_by = actor
    _log(report, actor=actor, status=status, note=note)
    with history_context(user=actor.pk, action=action):
        report.save(update_fields=["status", "review_note", "reviewed_at", "reviewed_by", "status_log", "updated_at"])
    return report


@transaction.atomic
def activity_report_accept(*, actor: Any, report: ActivityReport, note: str = "") -> ActivityReport:
    return _review(
        actor=actor, report=report, status=ActivityReportStatus.ACCEPTED, note=note.strip(), action="activity_accept"
    )


@transaction.atomic
def activity_report_return(*, actor: Any, report: ActivityReport, note: str) -> ActivityReport:
    """Send the report back to the organization; the note says what to fix and is required."""
    if not note.strip():
        raise DomainError(
            _("Tuliskan catatan: apa yang perlu diperbaiki."), code="note_required", extra={"field": "note"}
        )
    return _review(
        actor=actor, report=report, status=ActivityReportStatus.RETURNED, note=note.strip(), action="activity_return"
    )


# ---------------------------------------------------------------------------------------------- selectors


def reporting_organizations(*, user: Any) -> list[Organization]:
    """The active agencies/partners the user reports for (their memberships with the submit capability)."""
    ids = _submit_organization_ids(scope_for(user))
    if not ids:
        return []
    return list(
        Organization.objects.for_user(user)
        .filter(pk__in=ids, is_active=True, kind__in=REPORTING_KINDS)
        .order_by("name")
    )


def activity_report_list(*, user: Any, organizations: Iterable[Organization]) -> QuerySet[ActivityReport]:
    """Reports of the given organizations (the user's own), newest period first."""
    return (
        ActivityReport.objects.for_user(user)
        .filter(organization__in=[o.pk for o in organizations])
        .select_related("organization", "submitted_by", "reviewed_by")
        .order_by("-period_year", "-period_number", "organization__name")
    )


def startable_periods(
    *, organization: Organization, existing: Iterable[ActivityReport], today: dt.date | None = None
) -> list[Period]:
    """The current and the previous period (a semester is usually reported just after it ends), minus those
    the organization already has a report for."""
    current = period_current(today=today)
    taken = {(r.period_kind, r.period_year, r.period_number) for r in existing if r.organization_id == organization.pk}
    return [p for p in (current, current.previous()) if (p.kind, p.year, p.number) not in taken]


def activity_report_get(*, user: Any, pk: int) -> ActivityReport:
    """One report in the user's scope; a draft only for its own organization (the secretariat and leadership
    see it once submitted, as on the board and in the export)."""
    qs = ActivityReport.objects.for_user(user).select_related("organization", "region", "submitted_by", "reviewed_by")
    report: ActivityReport = get_object_or_404(qs, pk=pk)
    if report.status == ActivityReportStatus.DRAFT and not may_submit_for(
        user=user, organization_id=report.organization_id
    ):
        raise Http404
    return report


def board_regions(*, user: Any) -> list[Region]:
    """TKPK regions whose board the user may read: the regions of their secretariat/leadership roles; a
    superuser every region with a reporting organization."""
    scope = scope_for(user)
    if scope.is_superuser:
        codes = set(
            Organization.objects.filter(kind__in=REPORTING_KINDS, is_active=True).values_list("region_id", flat=True)
        )
    else:
        codes = {g.region_code for g in scope.grants_for(Role.SECRETARIAT, Role.LEADERSHIP)}
    return list(Region.objects.filter(code__in=codes).order_by("code"))


class BoardStatus:
    """Filter values of the board (URL ``status``)."""

    NOT_SUBMITTED = "belum"
    SUBMITTED = ActivityReportStatus.SUBMITTED.value
    ACCEPTED = ActivityReportStatus.ACCEPTED.value
    RETURNED = ActivityReportStatus.RETURNED.value

    CHOICES = (
        (NOT_SUBMITTED, gettext_lazy("Belum mengirim")),
        (SUBMITTED, gettext_lazy("Diajukan (menunggu tinjauan)")),
        (RETURNED, gettext_lazy("Dikembalikan")),
        (ACCEPTED, gettext_lazy("Diterima")),
    )


@dataclass
class BoardRow:
    organization_id: int
    organization_name: str
    organization_kind: str
    report_id: int | None
    report_status: str | None
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    review_note: str
    narrative: str
    obstacles: str
    figures: list[dict[str, Any]]
    submitted_by_name: str

    @property
    def board_status(self) -> str:
        if self.report_status in (None, ActivityReportStatus.DRAFT):
            return BoardStatus.NOT_SUBMITTED
        return str(self.report_status)

    @property
    def status_label(self) -> str:
        if self.report_status is None:
            return _("Belum mengirim")
        if self.report_status == ActivityReportStatus.DRAFT:
            return _("Belum mengirim (masih draf)")
        return str(ActivityReportStatus(self.report_status).label)

    @property
    def kind_label(self) -> str:
        return str(OrganizationKind(self.organization_kind).label)

    @property
    def is_visible_report(self) -> bool:
        """Submitted content (a draft is the organization's own until it submits)."""
        return self.report_id is not None and self.report_status != ActivityReportStatus.DRAFT


@dataclass
class Board:
    region: Region
    period: Period
    rows: list[BoardRow]
    counts: dict[str, int]
    total: int


def activity_board(*, user: Any, region: Region, period: Period, status: str = "") -> Board:
    """Every active agency/partner of the region with its report of the period, or "belum mengirim". One query
    (organizations LEFT JOIN the period's reports); counts per status cover all rows, ``status`` filters."""
    qs = (
        Organization.objects.for_user(user)
        .filter(region=region, is_active=True, kind__in=REPORTING_KINDS)
        .annotate(
            report=FilteredRelation(
                "activity_reports",
                condition=Q(
                    activity_reports__period_kind=period.kind,
                    activity_reports__period_year=period.year,
                    activity_reports__period_number=period.number,
                ),
            )
        )
        .values(
            "id",
            "name",
            "kind",
            "report__id",
            "report__status",
            "report__submitted_at",
            "report__reviewed_at",
            "report__review_note",
            "report__narrative",
            "report__obstacles",
            "report__figures",
            "report__submitted_by__first_name",
            "report__submitted_by__last_name",
            "report__submitted_by__username",
        )
        .order_by("kind", "name")
    )
    rows = []
    for r in qs:
        submitter = " ".join(
            p for p in (r["report__submitted_by__first_name"], r["report__submitted_by__last_name"]) if p
        )
        rows.append(
            BoardRow(
                organization_id=r["id"],
                organization_name=r["name"],
                organization_kind=r["kind"],
                report_id=r["report__id"],
                report_status=r["report__status"],
                submitted_at=r["report__submitted_at"],
                reviewed_at=r["report__reviewed_at"],
                review_note=r["report__review_note"] or "",
                narrative=r["report__narrative"] or "",
                obstacles=r["report__obstacles"] or "",
                figures=r["report__figures"] or [],
                submitted_by_name=submitter or (r["report__submitted_by__username"] or ""),
            )
        )
    counts = Counter(row.board_status for row in rows)
    shown = [row for row in rows if row.board_status == status] if status else rows
    return Board(
        region=region,
        period=period,
        rows=shown,
        counts={code: counts.get(code, 0) for code, _label in BoardStatus.CHOICES},
        total=len(rows),
    )


# ------------------------------------------------------------------------------------------------- export

REPORT_HEADERS = (
    gettext_lazy("Organisasi"),
    gettext_lazy("Jenis"),
    gettext_lazy("Periode"),
    gettext_lazy("Status"),
    gettext_lazy("Diajukan"),
    gettext_lazy("Diajukan oleh"),
    gettext_lazy("Ditinjau"),
    gettext_lazy("Catatan sekretariat"),
    gettext_lazy("Uraian kegiatan"),
    gettext_lazy("Kendala"),
)
FIGURE_HEADERS = (
    gettext_lazy("Organisasi"),
    gettext_lazy("Kode program"),
    gettext_lazy("Nama program"),
    gettext_lazy("Tahun program"),
    gettext_lazy("Target keluarga"),
    gettext_lazy("Pagu anggaran (Rp)"),
    gettext_lazy("Keluarga terjangkau"),
    gettext_lazy("Jumlah intervensi"),
    gettext_lazy("Nilai tersalurkan (Rp)"),
)


def _local(value: dt.datetime | None) -> dt.datetime | None:
    """Excel has no time zones: the local (Asia/Jakarta) wall time."""
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def activity_export_write(*, user: Any, region: Region, period: Period, target: str | IO[bytes]) -> int:
    """The period's reports of the region as .xlsx (streamed, write-only): sheet "Laporan" with every
    reporting organization and its status (also those that have not submitted), sheet "Capaian per program"
    with the figures of the submitted reports. Returns the number of organizations."""
    board = activity_board(user=user, region=region, period=period)
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def sheet(title: str, headers: Sequence[Any]) -> Any:
        ws = workbook.create_sheet(title=title[:31])
        cells = []
        for header in headers:
            cell = WriteOnlyCell(ws, value=str(header))
            cell.font = bold
            cells.append(cell)
        ws.append(cells)
        return ws

    reports = sheet(_("Laporan"), REPORT_HEADERS)
    for row in board.rows:
        visible = row.is_visible_report
        reports.append(
            [
                row.organization_name,
                row.kind_label,
                period.label,
                row.status_label,
                _local(row.submitted_at) if visible else None,
                row.submitted_by_name if visible else "",
                _local(row.reviewed_at) if visible else None,
                row.review_note if visible else "",
                row.narrative if visible else "",
                row.obstacles if visible else "",
            ]
        )
    figures = sheet(_("Capaian per program"), FIGURE_HEADERS)
    for row in board.rows:
        if not row.is_visible_report:
            continue
        for fig in row.figures:
            figures.append(
                [
                    row.organization_name,
                    fig.get("code", ""),
                    fig.get("name", ""),
                    fig.get("year"),
                    fig.get("target_households", 0),
                    fig.get("budget", 0),
                    fig.get("households", 0),
                    fig.get("interventions", 0),
                    fig.get("value", 0),
                ]
            )
    workbook.save(target)
    return len(board.rows)


def export_filename(*, region: Region, period: Period) -> str:
    kind = "semester" if period.kind == PeriodKind.SEMESTER else "triwulan"
    return f"laporan-kegiatan-{region.code}-{period.year}-{kind}-{period.number}.xlsx"


# ----------------------------------------------------------------------------------------------- timeline


@dataclass(frozen=True)
class TimelineEntry:
    status: str
    label: str
    at: dt.datetime | None
    by_name: str
    note: str


def report_timeline(report: ActivityReport) -> list[TimelineEntry]:
    """The status changes of a report, oldest first, for the detail page."""
    labels = {
        ActivityReportStatus.DRAFT: _("Draf dibuat"),
        ActivityReportStatus.SUBMITTED: _("Diajukan ke sekretariat"),
        ActivityReportStatus.RETURNED: _("Dikembalikan untuk diperbaiki"),
        ActivityReportStatus.ACCEPTED: _("Diterima sekretariat"),
    }
    entries = []
    for item in report.status_log or []:
        status = str(item.get("status", ""))
        at_text = item.get("at")
        at = dt.datetime.fromisoformat(at_text) if at_text else None
        entries.append(
            TimelineEntry(
                status=status,
                label=str(labels.get(status, status)),  # type: ignore[call-overload]
                at=at,
                by_name=str(item.get("by_name", "")),
                note=str(item.get("note", "")),
            )
        )
    return entries
