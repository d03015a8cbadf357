"""The Musrenbang CSR summary of a cycle: proposals (submitted and further, not withdrawn) by sector, kecamatan
(of their targets), cluster, strategy, assistance kind and status, with counts, value (budget) and households
targeted vs delivered; as a page (Chart.js), an .xlsx (one sheet per table, write-only) and a PDF (WeasyPrint,
inline SVG charts from ``reports.periodic.bar_chart_svg``).

Aggregates only (no partner or household names), read through ``Proposal.objects.for_aggregates`` so leadership
counts its region like the secretariat. Definitions:

* targeted: targets of the proposal not found ineligible in the field (pending or eligible), one per household;
* delivered: households with a delivered intervention of the proposal's program (exists once agreed);
* a household aimed at by two proposals counts in both (the sums add up per proposal).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Substr
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from csr.models import CsrCycle, Proposal, ProposalStatus, ProposalTarget, VerificationResult
from programs.models import Intervention, InterventionStatus
from reports.periodic import Table, bar_chart_svg, fmt, percent
from tkpk.identifiers import dotted_region_code
from tkpk.models import CompanySector, OrganizationKind, Region

SUMMARY_STATUSES = (
    ProposalStatus.SUBMITTED,
    ProposalStatus.RETURNED,
    ProposalStatus.VERIFIED,
    ProposalStatus.AGREED,
    ProposalStatus.IMPLEMENTED,
    ProposalStatus.REPORTED,
)
TARGETED_RESULTS = (VerificationResult.PENDING, VerificationResult.ELIGIBLE)
CHART_MAX_BARS = 25
UNKNOWN = "?"


@dataclass
class CsrSummary:
    cycle: CsrCycle
    generated_at: dt.datetime
    kpis: list[tuple[str, str]]
    totals: dict[str, Any]
    tables: list[Table]

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def chart_data(self) -> dict[str, Any]:
        """Series for the page's Chart.js charts (the same numbers as the tables)."""

        def pairs(key: str, value_index: int, label_index: int = 0) -> list[list[Any]]:
            return [[str(r[label_index]), _number(r[value_index])] for r in self.table(key).rows]

        kecamatan = self.table("kecamatan").rows[:CHART_MAX_BARS]
        return {
            "sector_value": pairs("sector", 3),
            "cluster_proposals": pairs("cluster", 1),
            "strategy_proposals": pairs("strategy", 1),
            "kind_value": pairs("kind", 3),
            "kecamatan": [[str(r[1]), _number(r[3]), _number(r[4])] for r in kecamatan],
        }

    def pdf_charts(self) -> list[SafeString]:
        # Values in millions of rupiah: full amounts do not fit beside the bars.
        data = self.chart_data()
        charts = [
            bar_chart_svg(
                [(label, round(value / 1_000_000)) for label, value in data["sector_value"]],
                title=_("Nilai usulan per sektor (juta Rp)"),
            ),
            bar_chart_svg(
                [(label, round(value / 1_000_000)) for label, value in data["kind_value"]],
                title=_("Nilai usulan per jenis bantuan (juta Rp)"),
            ),
            bar_chart_svg(
                [(str(r[1]), int(r[3])) for r in self.table("kecamatan").rows[:CHART_MAX_BARS]],
                title=_("Keluarga sasaran per kecamatan"),
            ),
            bar_chart_svg(
                [(str(r[1]), int(r[4])) for r in self.table("kecamatan").rows[:CHART_MAX_BARS]],
                title=_("Keluarga tersalurkan per kecamatan"),
            ),
        ]
        return [c for c in charts if c]


def _number(value: Any) -> int | float:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value if isinstance(value, int | float) else 0


def summary_proposals(*, user: Any, cycle: CsrCycle) -> QuerySet[Proposal]:
    """The proposals the summary counts: submitted and further, not withdrawn (never drafts)."""
    return Proposal.objects.for_aggregates(user).filter(cycle=cycle, status__in=SUMMARY_STATUSES)


def _per_proposal(proposals: QuerySet[Proposal]) -> list[dict[str, Any]]:
    targeted = (
        ProposalTarget.objects.filter(proposal=OuterRef("pk"), verification__in=TARGETED_RESULTS)
        .order_by()
        .values("proposal")
        .annotate(n=Count("pk"))
        .values("n")
    )
    delivered = (
        Intervention.objects.filter(program_id=OuterRef("program_id"), status=InterventionStatus.DELIVERED)
        .order_by()
        .values("program")
        .annotate(n=Count("household_id", distinct=True))
        .values("n")
    )
    return list(
        proposals.order_by()
        .annotate(
            n_targeted=Coalesce(Subquery(targeted, output_field=IntegerField()), Value(0)),
            n_delivered=Coalesce(Subquery(delivered, output_field=IntegerField()), Value(0)),
        )
        .values(
            "pk",
            "organization_id",
            "organization__kind",
            "organization__sector",
            "cluster__name",
            "strategy__name",
            "assistance_kind__name",
            "status",
            "budget",
            "n_targeted",
            "n_delivered",
        )
    )


def _sector_label(row: dict[str, Any]) -> str:
    kind, sector = row["organization__kind"], row["organization__sector"]
    if kind == OrganizationKind.COMPANY:
        label = CompanySector(sector).label if sector in CompanySector.values else _("Perusahaan (sektor belum diisi)")
        return str(label)
    return str(OrganizationKind(kind).label) if kind in OrganizationKind.values else str(kind)


def _group_headers(first: str) -> list[str]:
    return [
        first,
        _("Usulan"),
        _("Mitra"),
        _("Nilai (Rp)"),
        _("Keluarga sasaran"),
        _("Keluarga tersalurkan"),
        _("% tersalurkan"),
    ]


def _grouped(rows: list[dict[str, Any]], label: Callable[[dict[str, Any]], str]) -> tuple[list[list[Any]], list[Any]]:
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"proposals": 0, "partners": set(), "budget": Decimal(0), "targeted": 0, "delivered": 0}
    )
    for row in rows:
        g = groups[label(row)]
        g["proposals"] += 1
        g["partners"].add(row["organization_id"])
        g["budget"] += row["budget"] or Decimal(0)
        g["targeted"] += row["n_targeted"]
        g["delivered"] += row["n_delivered"]
    out = [
        [
            name,
            g["proposals"],
            len(g["partners"]),
            g["budget"],
            g["targeted"],
            g["delivered"],
            percent(g["delivered"], g["targeted"]),
        ]
        for name, g in groups.items()
    ]
    out.sort(key=lambda r: (-r[3], -r[1], str(r[0]).lower()))
    targeted = sum(r["n_targeted"] for r in rows)
    delivered = sum(r["n_delivered"] for r in rows)
    total = [
        _("Jumlah"),
        len(rows),
        len({r["organization_id"] for r in rows}),
        sum((r["budget"] or Decimal(0) for r in rows), Decimal(0)),
        targeted,
        delivered,
        percent(delivered, targeted),
    ]
    return out, total


def _kecamatan_table(proposals: QuerySet[Proposal]) -> Table:
    proposal_ids = proposals.order_by().values("pk")
    targets = (
        ProposalTarget.objects.filter(proposal_id__in=proposal_ids, verification__in=TARGETED_RESULTS)
        .annotate(kec=Coalesce("household__kecamatan_code", Substr("proposed_desa_id", 1, 6), Value(UNKNOWN)))
        .order_by()
        .values("kec")
        .annotate(n=Count("pk"), proposals=Count("proposal_id", distinct=True))
        .values_list("kec", "n", "proposals")
    )
    delivered_pairs = (
        Intervention.objects.filter(
            program_id__in=proposals.order_by().filter(program__isnull=False).values("program_id"),
            status=InterventionStatus.DELIVERED,
        )
        .order_by()
        .values("kecamatan_code", "program_id")
        .annotate(n=Count("household_id", distinct=True))
        .values_list("kecamatan_code", "n")
    )
    targeted: dict[str, tuple[int, int]] = {kec: (n, p) for kec, n, p in targets}
    delivered: dict[str, int] = defaultdict(int)
    for kec, n in delivered_pairs:
        delivered[kec] += n
    codes = set(targeted) | set(delivered)
    names = dict(Region.objects.filter(code__in=codes - {UNKNOWN}).values_list("code", "name"))
    rows: list[list[Any]] = []
    for code in codes:
        n, p = targeted.get(code, (0, 0))
        name = names.get(code, _("Tidak diketahui") if code == UNKNOWN else code)
        rows.append(
            [
                dotted_region_code(code) if code != UNKNOWN else "",
                name,
                p,
                n,
                delivered[code],
                percent(delivered[code], n),
            ]
        )
    rows.sort(key=lambda r: (-r[3], -r[4], str(r[1])))
    n_total, d_total = sum(r[3] for r in rows), sum(r[4] for r in rows)
    return Table(
        key="kecamatan",
        sheet=_("Per kecamatan"),
        title=_("Usulan per kecamatan sasaran"),
        headers=[
            _("Kode"),
            _("Kecamatan"),
            _("Usulan"),
            _("Keluarga sasaran"),
            _("Keluarga tersalurkan"),
            _("% tersalurkan"),
        ],
        rows=rows,
        numeric={2, 3, 4, 5},
        note=_(
            "Kecamatan tempat keluarga sasaran tinggal; satu usulan dapat menyasar beberapa kecamatan (kolom Usulan "
            "tidak dijumlahkan). Nilai usulan tidak dibagi per kecamatan."
        ),
        total=["", _("Jumlah"), None, n_total, d_total, percent(d_total, n_total)] if rows else None,
    )


def csr_summary(*, user: Any, cycle: CsrCycle) -> CsrSummary:
    """Every table of the summary (call with a cycle from ``CsrCycle.objects.for_user``)."""
    proposals = summary_proposals(user=user, cycle=cycle)
    rows = _per_proposal(proposals)
    note = _(
        "Usulan yang sudah diajukan dan seterusnya (draf dan usulan yang ditarik tidak dihitung). Keluarga "
        "sasaran: belum diverifikasi atau layak; keluarga yang disasar dua usulan dihitung pada keduanya. "
        "Tersalurkan: keluarga dengan penyaluran berstatus tersalurkan dari program usulan itu."
    )
    tables: list[Table] = []
    for key, sheet, title, first, label in (
        ("sector", _("Per sektor"), _("Usulan per sektor mitra"), _("Sektor"), _sector_label),
        ("cluster", _("Per klaster"), _("Usulan per klaster program"), _("Klaster"), lambda r: r["cluster__name"]),
        (
            "strategy",
            _("Per strategi"),
            _("Usulan per strategi penanggulangan kemiskinan"),
            _("Strategi"),
            lambda r: r["strategy__name"],
        ),
        (
            "kind",
            _("Per jenis bantuan"),
            _("Usulan per jenis bantuan"),
            _("Jenis bantuan"),
            lambda r: r["assistance_kind__name"],
        ),
        (
            "status",
            _("Per status"),
            _("Usulan per status"),
            _("Status"),
            lambda r: str(ProposalStatus(r["status"]).label),
        ),
    ):
        data, total = _grouped(rows, label)
        tables.append(
            Table(
                key=key,
                sheet=sheet,
                title=title,
                headers=_group_headers(first),
                rows=data,
                numeric={1, 2, 3, 4, 5, 6},
                note=note,
                total=total if data else None,
            )
        )
    tables.insert(1, _kecamatan_table(proposals))
    budget = sum((r["budget"] or Decimal(0) for r in rows), Decimal(0))
    targeted = sum(r["n_targeted"] for r in rows)
    delivered = sum(r["n_delivered"] for r in rows)
    agreed = sum(
        r["status"] in (ProposalStatus.AGREED, ProposalStatus.IMPLEMENTED, ProposalStatus.REPORTED) for r in rows
    )
    totals = {
        "proposals": len(rows),
        "partners": len({r["organization_id"] for r in rows}),
        "agreed": agreed,
        "budget": budget,
        "targeted": targeted,
        "delivered": delivered,
        "delivered_pct": percent(delivered, targeted),
    }
    kpis = [
        (_("Usulan"), fmt(len(rows))),
        (_("Mitra pengusul"), fmt(totals["partners"])),
        (_("Usulan disepakati (PKS)"), fmt(agreed)),
        (_("Nilai usulan (Rp)"), fmt(budget)),
        (_("Keluarga sasaran"), fmt(targeted)),
        (
            _("Keluarga tersalurkan"),
            f"{fmt(delivered)} ({fmt(totals['delivered_pct'])} %)" if targeted else fmt(delivered),
        ),
    ]
    return CsrSummary(cycle=cycle, generated_at=timezone.now(), kpis=kpis, totals=totals, tables=tables)


# ------------------------------------------------------------------------------------------------- files


def _cell(value: Any) -> Any:
    return "" if value is None else value


def cover_lines(summary: CsrSummary) -> list[tuple[str, str]]:
    cycle = summary.cycle
    return [
        (_("Siklus"), f"{cycle.name} ({cycle.year})"),
        (_("Wilayah"), f"{cycle.region.dotted_code} {cycle.region.name}"),
        (_("Batas pengajuan usulan"), fmt(cycle.proposal_deadline)),
        (_("Batas realisasi"), fmt(cycle.realisation_deadline)),
        (_("Dibuat"), fmt(summary.generated_at)),
    ]


def render_xlsx(summary: CsrSummary) -> bytes:
    """A cover sheet, then one sheet per table (write-only workbook)."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def bold_row(sheet: Any, values: Sequence[Any]) -> None:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value if isinstance(value, int | Decimal) else str(_cell(value)))
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)

    cover = workbook.create_sheet(title=_("Sampul"))
    bold_row(cover, [_("Ringkasan Musrenbang CSR")])
    for label, value in [*cover_lines(summary), *summary.kpis]:
        cover.append([label, value])
    for table in summary.tables:
        sheet = workbook.create_sheet(title=table.sheet[:31])
        bold_row(sheet, table.headers)
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
        if table.total:
            bold_row(sheet, table.total)
        if table.note:
            sheet.append([])
            sheet.append([table.note])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render_pdf(summary: CsrSummary) -> tuple[bytes, int]:
    """The PDF (WeasyPrint) and its page count."""
    from weasyprint import HTML

    html = render_to_string(
        "csr/summary/pdf.html", {"s": summary, "cover_lines": cover_lines(summary), "charts": summary.pdf_charts()}
    )
    document = HTML(string=html, base_url=None).render()
    return document.write_pdf(), len(document.pages)


def file_stem(cycle: CsrCycle) -> str:
    return slugify(f"ringkasan-musrenbang-csr-{cycle.region_id}-{cycle.year}-{cycle.pk}")
