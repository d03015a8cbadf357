"""Periodic reports (laporan berkala, semester / annual, LP2KD-style) of a TKPK region as PDF and .xlsx.

``periodic_report_request`` records a queued report and sends the task when the caller's transaction commits;
``periodic_report_execute`` (in Celery) claims it with a conditional UPDATE (queued → running), collects the
tables, writes the .xlsx (one sheet per table) and the PDF (WeasyPrint, one HTML template with print CSS and
an inline SVG chart), and stores both files. Any error leaves the report ``failed`` with a message.

The gap engine computes per calendar year, so a semester report uses the computation of its year (stated on
the cover); programme realisation and activity reports are counted over the semester's own dates.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from households.models import Graduation
from programs.activity import REPORTING_KINDS, period_kind
from programs.models import (
    ActivityReport,
    ActivityReportStatus,
    AssistanceKind,
    Intervention,
    InterventionStatus,
    PeriodKind,
    ProgramCluster,
)
from reports.models import (
    GapRunStatus,
    GapSummary,
    PeriodicReport,
    PeriodicReportPeriod,
    RegionTarget,
)
from reports.selectors import freshness, need_labels
from tkpk.exceptions import DomainError
from tkpk.identifiers import dotted_region_code
from tkpk.models import Organization, OrganizationKind, Region
from tkpk.scoping import ROLE_CAPABILITIES, Cap, scope_for

logger = logging.getLogger(__name__)

CHART_MAX_BARS = 40


# ------------------------------------------------------------------------------------------------- periods


def period_dates(*, year: int, period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a report period."""
    if period == PeriodicReportPeriod.SEMESTER_1:
        return dt.date(year, 1, 1), dt.date(year, 6, 30)
    if period == PeriodicReportPeriod.SEMESTER_2:
        return dt.date(year, 7, 1), dt.date(year, 12, 31)
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def activity_periods(*, year: int, period: str) -> list[tuple[str, int, str]]:
    """The activity-report periods (kind, number, label) inside a report period, per ``ACTIVITY_REPORT_PERIOD``."""
    kind = period_kind()
    if kind == PeriodKind.SEMESTER:
        numbers = {"s1": [1], "s2": [2]}.get(period, [1, 2])
        label = _("Semester")
    else:
        numbers = {"s1": [1, 2], "s2": [3, 4]}.get(period, [1, 2, 3, 4])
        label = _("Triwulan")
    return [(kind, n, f"{label} {n} {year}") for n in numbers]


# ------------------------------------------------------------------------------------------------- request


def report_regions(*, user: Any) -> list[Region]:
    """TKPK regions whose reports the user reads (the regions of their gap-reading grants)."""
    scope = scope_for(user)
    if scope.is_superuser:
        codes = set(GapSummary.objects.filter(level__in=(1, 2)).values_list("region_code", flat=True))
    else:
        codes = {g.region_code for g in scope.grants if Cap.GAP_VIEW in ROLE_CAPABILITIES[g.role]}
    return list(Region.objects.filter(code__in=codes).order_by("code"))


def periodic_report_request(*, user: Any, region: Region, year: int, period: str) -> PeriodicReport:
    """Queue a report (secretariat); the task is sent once the caller's transaction commits."""
    from reports.tasks import periodic_report_task

    scope = scope_for(user)
    if not scope.can(Cap.GAP_MANAGE):
        raise DomainError(_("Hanya sekretariat yang dapat membuat laporan berkala."), code="forbidden")
    managed = {g.region_code for g in scope.grants if Cap.GAP_MANAGE in ROLE_CAPABILITIES[g.role]}
    if not scope.is_superuser and region.code not in managed:
        raise DomainError(_("Wilayah di luar cakupan Anda."), code="forbidden")
    if period not in PeriodicReportPeriod.values:
        raise DomainError(_("Periode laporan tidak dikenal."), code="invalid_period")
    if not 2000 <= year <= 2100:
        raise DomainError(_("Tahun laporan tidak sah."), code="invalid_year")
    report = PeriodicReport.objects.create(region=region, year=year, period=period, requested_by=user)

    def send() -> None:
        result = periodic_report_task.delay(report.pk)
        PeriodicReport.objects.filter(pk=report.pk).update(task_id=result.id or "")

    transaction.on_commit(send)
    return report


def periodic_report_list(*, user: Any, region: Region) -> Any:
    return (
        PeriodicReport.objects.for_user(user)
        .filter(region=region)
        .select_related("region", "requested_by")
        .order_by("-requested_at", "-id")
    )


# ------------------------------------------------------------------------------------------------- content


@dataclass
class Table:
    """One table of the report: a PDF section and a sheet of the .xlsx."""

    key: str
    sheet: str
    title: str
    headers: list[str]
    rows: list[list[Any]]
    numeric: set[int] = field(default_factory=set)  # column indexes aligned right
    plain: set[int] = field(default_factory=set)  # numbers shown as they are (years)
    note: str = ""
    total: list[Any] | None = None

    @property
    def display_rows(self) -> list[list[tuple[str, bool]]]:
        out = []
        for row in [*self.rows, *([self.total] if self.total else [])]:
            out.append(
                [(str(value) if i in self.plain else fmt(value), i in self.numeric) for i, value in enumerate(row)]
            )
        return out


@dataclass
class ReportContent:
    region: Region
    year: int
    period: str
    period_label: str
    start: dt.date
    end: dt.date
    generated_at: dt.datetime
    data_as_of: dt.datetime | None
    sources_label: str
    gap_run_id: int | None
    kpis: list[tuple[str, str]]
    tables: list[Table]
    chart_svg: SafeString
    chart_note: str

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def fmt(value: Any) -> str:
    """Indonesian number formatting (thousands with '.', decimals with ',')."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return _("Ya") if value else _("Tidak")
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value() and _no_fraction(value):
        return fmt(int(value))
    if isinstance(value, Decimal | float):
        text = f"{value:,.2f}".replace(",", "#").replace(".", ",").replace("#", ".")
        return text
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%d-%m-%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d-%m-%Y")
    return str(value)


def _no_fraction(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= 0


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


def _region_filter(region: Region, prefix: str = "") -> Q:
    column = {2: "province_code", 4: "kabupaten_code", 6: "kecamatan_code", 10: "desa_id"}[len(region.code)]
    return Q(**{f"{prefix}{column}": region.code})


def _targets_table(region: Region) -> Table:
    rows = [
        [
            t.year,
            t.poverty_rate_target,
            t.poverty_rate_actual,
            t.extreme_rate_target,
            t.extreme_rate_actual,
            t.poor_population,
            t.source_note,
        ]
        for t in RegionTarget.objects.filter(region=region).order_by("year")
    ]
    return Table(
        key="targets",
        sheet=_("Target vs capaian"),
        title=_("Target dan capaian tingkat kemiskinan"),
        headers=[
            _("Tahun"),
            _("Target kemiskinan (%)"),
            _("Capaian BPS (%)"),
            _("Target ekstrem (%)"),
            _("Ekstrem BPS (%)"),
            _("Penduduk miskin (jiwa)"),
            _("Sumber"),
        ],
        rows=rows,
        numeric={1, 2, 3, 4, 5},
        plain={0},
        note="" if rows else _("Belum ada target wilayah yang dicatat sekretariat."),
    )


def _coverage_tables(summary: GapSummary | None) -> list[Table]:
    covered = summary.covered if summary else 0
    households = summary.households if summary else 0
    tables = []
    for key, model, field_name, sheet, title, header in (
        (
            "cluster",
            ProgramCluster,
            "covered_by_cluster",
            _("Cakupan per klaster"),
            _("Keluarga terjangkau per klaster program"),
            _("Klaster"),
        ),
        (
            "kind",
            AssistanceKind,
            "covered_by_kind",
            _("Cakupan per jenis bantuan"),
            _("Keluarga terjangkau per jenis bantuan"),
            _("Jenis bantuan"),
        ),
    ):
        counts: dict[str, int] = dict(getattr(summary, field_name)) if summary else {}
        names = dict(model.objects.values_list("code", "name"))
        rows = [
            [names.get(code, code), n, percent(n, households), percent(n, covered)]
            for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ]
        tables.append(
            Table(
                key=key,
                sheet=sheet,
                title=title,
                headers=[header, _("Keluarga terjangkau"), _("% dari keluarga aktif"), _("% dari keluarga terjangkau")],
                rows=rows,
                numeric={1, 2, 3},
                note=_("Satu keluarga dapat terjangkau oleh beberapa klaster/jenis bantuan sekaligus."),
            )
        )
    return tables


def _program_tables(region: Region, start: dt.date, end: dt.date) -> list[Table]:
    delivered = Intervention.objects.filter(
        _region_filter(region), status=InterventionStatus.DELIVERED, delivered_on__gte=start, delivered_on__lte=end
    ).order_by()
    measures = {
        "households": Count("household_id", distinct=True),
        "n": Count("id"),
        "value": Sum("value"),
        "programs": Count("program_id", distinct=True),
    }
    by_strategy = delivered.values("program__strategy__name").annotate(**measures).order_by("program__strategy__name")
    strategy_rows = [
        [r["program__strategy__name"], r["programs"], r["households"], r["n"], r["value"] or Decimal(0)]
        for r in by_strategy
    ]
    by_org = (
        delivered.values("program__organization__name", "program__organization__kind")
        .annotate(**measures)
        .order_by("program__organization__kind", "program__organization__name")
    )
    org_rows = []
    kind_totals: dict[str, list[Any]] = {}
    for r in by_org:
        kind = r["program__organization__kind"]
        label = str(OrganizationKind(kind).label) if kind in OrganizationKind.values else kind
        org_rows.append([r["program__organization__name"], label, r["programs"], r["households"], r["n"], r["value"]])
        bucket = kind_totals.setdefault(label, [label, 0, 0, Decimal(0)])
        bucket[1] += r["programs"]
        bucket[2] += r["n"]
        bucket[3] += r["value"] or Decimal(0)
    by_kind = delivered.values("program__organization__kind").annotate(hh=Count("household_id", distinct=True))
    kind_households = {
        (
            str(OrganizationKind(r["program__organization__kind"]).label)
            if r["program__organization__kind"] in OrganizationKind.values
            else r["program__organization__kind"]
        ): r["hh"]
        for r in by_kind
    }
    kind_rows = [[label, p, kind_households.get(label, 0), n, v] for label, p, n, v in kind_totals.values()]
    period_note = _("Intervensi berstatus tersalurkan dengan tanggal penyaluran %(start)s s.d. %(end)s.") % {
        "start": fmt(start),
        "end": fmt(end),
    }
    money = _("Nilai (Rp)")
    return [
        Table(
            key="strategy",
            sheet=_("Per strategi"),
            title=_("Realisasi program per strategi"),
            headers=[_("Strategi"), _("Program"), _("Keluarga"), _("Intervensi"), money],
            rows=strategy_rows,
            numeric={1, 2, 3, 4},
            note=period_note,
        ),
        Table(
            key="owner_kind",
            sheet=_("Per jenis pelaksana"),
            title=_("Realisasi program per jenis pelaksana (OPD, CSR, BAZNAS, …)"),
            headers=[_("Jenis pelaksana"), _("Program"), _("Keluarga"), _("Intervensi"), money],
            rows=kind_rows,
            numeric={1, 2, 3, 4},
            note=period_note,
        ),
        Table(
            key="organization",
            sheet=_("Per OPD-mitra"),
            title=_("Realisasi program per OPD dan mitra (CSR)"),
            headers=[_("Pelaksana"), _("Jenis"), _("Program"), _("Keluarga"), _("Intervensi"), money],
            rows=org_rows,
            numeric={2, 3, 4, 5},
            note=period_note,
        ),
    ]


def _child_rows(region: Region, year: int) -> tuple[list[GapSummary], dict[str, str], int]:
    """The gap rows one level below the region (kecamatan of a kabupaten/kota, kab/kota of a province)."""
    level = {2: 2, 4: 3, 6: 4}.get(len(region.code), 4)
    rows = list(GapSummary.objects.filter(year=year, level=level, parent_code=region.code).order_by("region_code"))
    names = dict(Region.objects.filter(code__in=[r.region_code for r in rows]).values_list("code", "name"))
    return rows, names, level


def _desil1_table(rows: list[GapSummary], names: dict[str, str], level: int) -> Table:
    unit = {2: _("Kabupaten/kota"), 3: _("Kecamatan"), 4: _("Desa/kelurahan")}[level]
    data = [
        [
            dotted_region_code(r.region_code),
            names.get(r.region_code, r.region_code),
            r.households,
            r.desil1,
            r.desil1_uncovered,
            percent(r.desil1_uncovered, r.desil1),
            r.desil1_4_uncovered,
            r.extreme_uncovered,
        ]
        for r in rows
    ]
    desil1, uncovered = sum(r.desil1 for r in rows), sum(r.desil1_uncovered for r in rows)
    total = [
        "",
        _("Jumlah"),
        sum(r.households for r in rows),
        desil1,
        uncovered,
        percent(uncovered, desil1),
        sum(r.desil1_4_uncovered for r in rows),
        sum(r.extreme_uncovered for r in rows),
    ]
    return Table(
        key="desil1",
        sheet=_("Desil 1 belum terjangkau"),
        title=_("Keluarga Desil 1 belum terjangkau per %(unit)s") % {"unit": unit.lower()},
        headers=[
            _("Kode"),
            unit,
            _("Keluarga aktif"),
            _("Desil 1"),
            _("Desil 1 belum terjangkau"),
            _("% belum terjangkau"),
            _("Desil 1-4 belum terjangkau"),
            _("Ekstrem belum terjangkau"),
        ],
        rows=data,
        numeric={2, 3, 4, 5, 6, 7},
        total=total if data else None,
    )


def _overlap_table(rows: list[GapSummary], names: dict[str, str], level: int) -> Table:
    unit = {2: _("Kabupaten/kota"), 3: _("Kecamatan"), 4: _("Desa/kelurahan")}[level]
    data = [
        [
            dotted_region_code(r.region_code),
            names.get(r.region_code, r.region_code),
            r.covered,
            r.overlap,
            percent(r.overlap, r.covered),
        ]
        for r in sorted(rows, key=lambda r: (-r.overlap, r.region_code))
    ]
    covered, overlap = sum(r.covered for r in rows), sum(r.overlap for r in rows)
    total = ["", _("Jumlah"), covered, overlap, percent(overlap, covered)]
    return Table(
        key="overlap",
        sheet=_("Tumpang tindih"),
        title=_("Tumpang tindih bantuan per %(unit)s") % {"unit": unit.lower()},
        headers=[_("Kode"), unit, _("Keluarga terjangkau"), _("Tumpang tindih"), _("% dari terjangkau")],
        rows=data,
        numeric={2, 3, 4},
        note=_("Tumpang tindih: keluarga menerima ≥ 3 program dengan jenis bantuan yang sama dalam setahun."),
        total=total if data else None,
    )


def _needs_table(summary: GapSummary | None) -> Table:
    labels = need_labels()
    needs: dict[str, int] = dict(summary.needs) if summary else {}
    unmet: dict[str, int] = dict(summary.unmet_need) if summary else {}
    codes = [c for c in labels if c in needs or c in unmet] + sorted((set(needs) | set(unmet)) - set(labels))
    rows = [
        [labels.get(c, c), needs.get(c, 0), unmet.get(c, 0), percent(unmet.get(c, 0), needs.get(c, 0))] for c in codes
    ]
    return Table(
        key="needs",
        sheet=_("Kebutuhan belum terpenuhi"),
        title=_("Kebutuhan belum terpenuhi per aturan kebutuhan"),
        headers=[_("Kebutuhan"), _("Keluarga dengan kebutuhan"), _("Belum terpenuhi"), _("% belum terpenuhi")],
        rows=rows,
        numeric={1, 2, 3},
        note=_("Belum terpenuhi: tidak ada intervensi dengan jenis bantuan yang sesuai dalam tahun tersebut."),
    )


def _graduation_table(
    region: Region,
    summary: GapSummary | None,
    rows: list[GapSummary],
    names: dict[str, str],
    start: dt.date,
    end: dt.date,
) -> Table:
    in_period = Graduation.objects.filter(
        _region_filter(region, "household__"), graduated_on__gte=start, graduated_on__lte=end, revoked_on__isnull=True
    ).count()
    data: list[list[Any]] = [
        [_("Graduasi dalam periode (%(start)s s.d. %(end)s)") % {"start": fmt(start), "end": fmt(end)}, in_period],
        [
            _("Graduasi sepanjang tahun %(year)s (perhitungan kesenjangan)") % {"year": start.year},
            summary.graduated if summary else 0,
        ],
    ]
    data += [
        [_("— %(name)s") % {"name": names.get(r.region_code, r.region_code)}, r.graduated] for r in rows if r.graduated
    ]
    return Table(
        key="graduation",
        sheet=_("Graduasi"),
        title=_("Graduasi (keluarga yang diverifikasi tidak miskin lagi)"),
        headers=[_("Uraian"), _("Keluarga")],
        rows=data,
        numeric={1},
        note=_("Graduasi yang dibatalkan tidak dihitung."),
    )


def _activity_table(region: Region, year: int, period: str) -> Table:
    periods = activity_periods(year=year, period=period)
    organizations = list(
        Organization.objects.filter(region__code__startswith=region.code, is_active=True, kind__in=REPORTING_KINDS)
        .order_by("kind", "name")
        .values_list("pk", "name", "kind")
    )
    reports = ActivityReport.objects.filter(
        organization_id__in=[o[0] for o in organizations],
        period_kind=periods[0][0],
        period_year=year,
        period_number__in=[p[1] for p in periods],
    ).values_list("organization_id", "period_number", "status", "submitted_at")
    found = {(org, number): (status, submitted) for org, number, status, submitted in reports}
    rows = []
    for pk, name, kind in organizations:
        row: list[Any] = [name, str(OrganizationKind(kind).label) if kind in OrganizationKind.values else kind]
        for _kind, number, _label in periods:
            status, submitted = found.get((pk, number), (None, None))
            if status is None or status == ActivityReportStatus.DRAFT:
                row.append(_("Belum mengirim"))
            else:
                label = str(ActivityReportStatus(status).label)
                row.append(f"{label} ({fmt(submitted.date())})" if submitted else label)
        rows.append(row)
    return Table(
        key="activity",
        sheet=_("Laporan kegiatan"),
        title=_("Status laporan kegiatan OPD dan mitra"),
        headers=[_("Organisasi"), _("Jenis"), *[label for _k, _n, label in periods]],
        rows=rows,
        note=_("Draf yang belum diajukan dihitung sebagai belum mengirim."),
    )


def bar_chart_svg(items: Sequence[tuple[str, int]], *, title: str, width: int = 680) -> SafeString:
    """A horizontal bar chart as inline SVG (WeasyPrint draws SVG; no JavaScript in the PDF)."""
    if not items:
        return mark_safe("")
    bar, gap, label_w, top, value_w = 14, 5, 190, 26, 60
    height = top + len(items) * (bar + gap) + 8
    top_value = max((v for _l, v in items), default=0) or 1
    plot_w = width - label_w - value_w
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="10">',
        f'<text x="0" y="14" font-size="11" font-weight="bold">{escape(title)}</text>',
    ]
    for i in range(1, 5):
        x = label_w + plot_w * i / 4
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 6}" stroke="#d9d9d9" stroke-width="0.6"/>'
        )
    for i, (label, value) in enumerate(items):
        y = top + i * (bar + gap)
        w = plot_w * value / top_value
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar - 3}" text-anchor="end">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar}" fill="#b02a37"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + bar - 3}">{escape(fmt(value))}</text>'
        )
    parts.append(
        f'<line x1="{label_w}" y1="{top - 4}" x2="{label_w}" y2="{height - 6}" stroke="#555" stroke-width="0.8"/>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text is escaped above


def collect(*, region: Region, year: int, period: str, on_step: Any = None) -> ReportContent:
    """Every table of the report (unscoped: the request was checked; the worker acts for the secretariat)."""

    def step(progress: int, text: str) -> None:
        if on_step is not None:
            on_step(progress, text)

    start, end = period_dates(year=year, period=period)
    fresh = freshness(year=year, region=region.code)
    summary = GapSummary.objects.filter(year=year, region_code=region.code).first()
    step(15, _("Membaca target dan cakupan"))
    tables = [_targets_table(region), *_coverage_tables(summary)]
    step(30, _("Menjumlahkan realisasi program"))
    tables += _program_tables(region, start, end)
    step(45, _("Membaca Desil 1 per wilayah"))
    rows, names, level = _child_rows(region, year)
    desil1 = _desil1_table(rows, names, level)
    tables += [desil1, _overlap_table(rows, names, level), _needs_table(summary)]
    step(55, _("Graduasi dan laporan kegiatan"))
    tables += [_graduation_table(region, summary, rows, names, start, end), _activity_table(region, year, period)]

    ranked = sorted(((r[1], r[4]) for r in desil1.rows), key=lambda item: (-item[1], item[0]))
    chart_note = ""
    if len(ranked) > CHART_MAX_BARS:
        chart_note = _("Grafik menampilkan %(n)s wilayah teratas; semua wilayah ada di tabel.") % {"n": CHART_MAX_BARS}
        ranked = ranked[:CHART_MAX_BARS]
    chart = bar_chart_svg(ranked, title=_("Keluarga Desil 1 belum terjangkau, terbanyak di atas"))

    kpis: list[tuple[str, str]] = []
    if summary is not None:
        kpis = [
            (_("Keluarga aktif"), fmt(summary.households)),
            (_("Desil 1"), fmt(summary.desil1)),
            (_("Desil 1 belum terjangkau"), fmt(summary.desil1_uncovered)),
            (
                _("Keluarga terjangkau"),
                f"{fmt(summary.covered)} ({fmt(percent(summary.covered, summary.households))} %)",
            ),
            (_("Tumpang tindih"), fmt(summary.overlap)),
            (_("Ada kebutuhan belum terpenuhi"), fmt(summary.unmet_any)),
            (_("Graduasi (tahun)"), fmt(summary.graduated)),
        ]
    report_label = (
        _("Tahun %(year)s") % {"year": year}
        if period == PeriodicReportPeriod.ANNUAL
        else f"{PeriodicReportPeriod(period).label} {year}"
    )
    return ReportContent(
        region=region,
        year=year,
        period=period,
        period_label=report_label,
        start=start,
        end=end,
        generated_at=timezone.now(),
        data_as_of=fresh["computed_at"],
        sources_label=fresh["sources_label"],
        gap_run_id=fresh["run"].pk if fresh["run"] else None,
        kpis=kpis,
        tables=tables,
        chart_svg=chart,
        chart_note=chart_note,
    )


# ------------------------------------------------------------------------------------------------- render


def _cell_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def render_xlsx(content: ReportContent) -> bytes:
    """One sheet per table (write-only workbook), after a cover sheet with the data's provenance."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def bold_row(sheet: Any, values: Sequence[Any]) -> None:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value if isinstance(value, int | Decimal) else str(value))
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)

    cover = workbook.create_sheet(title=_("Sampul"))
    bold_row(cover, [_("Laporan berkala penanggulangan kemiskinan")])
    for label, value in cover_lines(content):
        cover.append([label, value])
    for label, value in content.kpis:
        cover.append([label, value])
    for table in content.tables:
        sheet = workbook.create_sheet(title=table.sheet[:31])
        bold_row(sheet, table.headers)
        for row in table.rows:
            sheet.append([_cell_value(v) for v in row])
        if table.total:
            bold_row(sheet, ["" if v is None else v for v in table.total])
        if table.note:
            sheet.append([])
            sheet.append([table.note])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def cover_lines(content: ReportContent) -> list[tuple[str, str]]:
    return [
        (_("Wilayah"), f"{content.region.dotted_code} {content.region.name}"),
        (_("Periode"), f"{content.period_label} ({fmt(content.start)} s.d. {fmt(content.end)})"),
        (_("Dibuat"), fmt(content.generated_at)),
        (
            _("Data kesenjangan"),
            _("Data per %(time)s, sumber %(sources)s")
            % {"time": fmt(content.data_as_of) if content.data_as_of else "–", "sources": content.sources_label or "–"},
        ),
        (_("Perhitungan yang dipakai"), year_note(content)),
    ]


def year_note(content: ReportContent) -> str:
    if content.data_as_of is None:
        return _("Belum ada perhitungan kesenjangan tahun %(year)s; angka kesenjangan kosong.") % {"year": content.year}
    text = _("Angka kesenjangan memakai perhitungan tahun %(year)s (perhitungan nomor %(run)s).") % {
        "year": content.year,
        "run": content.gap_run_id,
    }
    if content.period != PeriodicReportPeriod.ANNUAL:
        text += " " + _(
            "Mesin kesenjangan menghitung per tahun kalender, sehingga cakupan, Desil 1, tumpang tindih dan "
            "kebutuhan pada laporan semester ini adalah angka tahun %(year)s sampai data per di atas; realisasi "
            "program, graduasi dalam periode dan laporan kegiatan dihitung menurut tanggal semester."
        ) % {"year": content.year}
    return text


def render_pdf(content: ReportContent) -> tuple[bytes, int]:
    """The PDF (WeasyPrint) and its page count."""
    from weasyprint import HTML

    html = render_to_string(
        "reports/periodic/pdf.html",
        {"c": content, "cover_lines": cover_lines(content), "year_note": year_note(content)},
    )
    document = HTML(string=html, base_url=None).render()
    return document.write_pdf(), len(document.pages)


def file_stem(report: PeriodicReport) -> str:
    return slugify(f"laporan-berkala-{report.region_id}-{report.year}-{report.period}")


# ------------------------------------------------------------------------------------------------- execute


def _progress(report_id: int, progress: int, step: str) -> None:
    PeriodicReport.objects.filter(pk=report_id).update(progress=progress, step=step[:120])


def periodic_report_execute(*, report_id: int) -> PeriodicReport | None:
    """Generate one queued report (Celery); None when another worker already claimed it."""
    claimed = PeriodicReport.objects.filter(pk=report_id, status=GapRunStatus.QUEUED).update(
        status=GapRunStatus.RUNNING, started_at=timezone.now(), progress=5, step=_("Mulai")
    )
    if not claimed:
        return None
    report = PeriodicReport.objects.select_related("region").get(pk=report_id)
    try:
        content = collect(
            region=report.region,
            year=report.year,
            period=report.period,
            on_step=lambda p, s: _progress(report.pk, p, s),
        )
        _progress(report.pk, 65, _("Menyusun lembar kerja .xlsx"))
        xlsx_bytes = render_xlsx(content)
        _progress(report.pk, 75, _("Menyusun PDF"))
        pdf_bytes, pages = render_pdf(content)
        _progress(report.pk, 95, _("Menyimpan berkas"))
        stem = file_stem(report)
        report.xlsx.save(f"{stem}.xlsx", ContentFile(xlsx_bytes), save=False)
        report.pdf.save(f"{stem}.pdf", ContentFile(pdf_bytes), save=False)
        report.page_count = pages
        report.data_as_of = content.data_as_of
        report.sources_label = content.sources_label[:500]
        report.gap_run_id = content.gap_run_id
        report.status, report.progress, report.step = GapRunStatus.DONE, 100, ""
        report.finished_at = timezone.now()
        report.save(
            update_fields=[
                "xlsx",
                "pdf",
                "page_count",
                "data_as_of",
                "sources_label",
                "gap_run",
                "status",
                "progress",
                "step",
                "finished_at",
            ]
        )
    except Exception as exc:
        logger.exception("periodic report %s failed", report_id)
        PeriodicReport.objects.filter(pk=report_id).update(
            status=GapRunStatus.FAILED,
            finished_at=timezone.now(),
            message=_("Laporan gagal dibuat: %(error)s") % {"error": str(exc)[:500]},
        )
        report.refresh_from_db()
    return report
