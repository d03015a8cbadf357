"""The by-name gap list (BNBA): the rows a page shows and the .xlsx a desa receives, which doubles as the field
verification (verval) sheet that comes back through the import engine (``reports.verval``).

The export is streamed: openpyxl's write-only workbook writes rows to a temporary file as the database cursor
yields them (``iterator``), so memory stays flat however many rows a region has.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from households.choices import Relationship
from households.models import Person
from programs.models import AssistanceKind
from reports import selectors
from reports.models import GapHouseholdFact
from tkpk.exceptions import DomainError
from tkpk.identifiers import mask_identifier
from tkpk.models import Region
from tkpk.scoping import scope_for

PAGE_SIZE = 25
EXPORT_CHUNK = 5000

# Verval statuses, as the desa writes them in the sheet (the dropdown), and what each does (reports.verval).
FOUND = "DITEMUKAN"
MOVED = "PINDAH"
DECEASED = "MENINGGAL"
NOT_POOR = "TIDAK MISKIN LAGI"
NOT_FOUND = "TIDAK DITEMUKAN"
VERVAL_STATUSES = (FOUND, MOVED, DECEASED, NOT_POOR, NOT_FOUND)

# Column headers of the export; the verval upload finds its columns by these (case/space-insensitive).
COL_ID = gettext_lazy("ID Keluarga (sistem)")
COL_STATUS = gettext_lazy("Status verval")
COL_DATE = gettext_lazy("Tanggal verval")
COL_NOTE = gettext_lazy("Keterangan")
EXPORT_HEADERS = (
    COL_ID,
    gettext_lazy("Nama kepala keluarga"),
    gettext_lazy("NIK kepala keluarga"),
    gettext_lazy("Nomor KK"),
    gettext_lazy("Alamat"),
    gettext_lazy("RT/RW"),
    gettext_lazy("Desa/Kelurahan"),
    gettext_lazy("Desil"),
    gettext_lazy("Kebutuhan"),
    gettext_lazy("Bantuan diterima"),
    gettext_lazy("Kebutuhan belum terpenuhi"),
    gettext_lazy("Alasan sulit dijangkau"),
    COL_STATUS,
    COL_DATE,
    COL_NOTE,
)
HEADER_ROW = 6  # rows 1-4: title, freshness, instructions, filters; row 5 blank
MAX_ROW = 1_048_576  # the last row of a sheet: the verval validations cover rows the desa adds
WRITE_BATCH = 500
ZIP_LEVEL = 1  # fast deflate: the rows are repetitive, level 1 already shrinks them ~10x
WIDTHS = (12, 28, 20, 20, 34, 9, 22, 7, 30, 30, 30, 34, 20, 15, 30)


@dataclass(frozen=True)
class Labels:
    """Display names of the code lists a fact row holds (``,code,code,``)."""

    needs: dict[str, str]
    kinds: dict[str, str]

    @classmethod
    def load(cls) -> Labels:
        return cls(needs=selectors.need_labels(), kinds=dict(AssistanceKind.objects.values_list("code", "name")))

    def join(self, codes: str, names: dict[str, str]) -> str:
        return ", ".join(names.get(code, code) for code in codes.split(",") if code)


def reason_text(*, no_nik: bool, nik_unverified: bool, not_in_latest: bool, member_moved: bool) -> str:
    flags = {"no_nik": no_nik, "nik_unverified": nik_unverified, "not_in_latest": not_in_latest}
    flags["member_moved"] = member_moved
    return "; ".join(str(selectors.REASON_LABELS[code]) for code, on in flags.items() if on)


def scoped_region(user: Any, region: str) -> str:
    """The region whose freshness a page states: the one asked for when it lies inside the user's scope, else
    the user's own (a region outside shows no rows, and must not show its snapshots either)."""
    try:
        code = selectors.normalise_region(region)
    except DomainError:  # reported by the list itself
        code = ""
    scope = scope_for(user)
    if code and (scope.is_superuser or any(code.startswith(root) for root in scope.region_codes)):
        return code
    return selectors.visible_root(user)


def freshness_line(*, year: int, region: str) -> str:
    """ "Data per <time>, sumber <snapshots>" of the latest computation of ``region`` (or that there is none)."""
    fresh = selectors.freshness(year=year, region=region)
    if fresh["computed_at"] is None:
        return _("Belum ada perhitungan kesenjangan untuk tahun %(year)s.") % {"year": year}
    return _("Data per %(time)s, sumber %(sources)s") % {
        "time": date_format(timezone.localtime(fresh["computed_at"]), "j F Y H:i"),
        "sources": fresh["sources_label"] or "-",
    }


def region_label(code: str) -> str:
    try:
        code = selectors.normalise_region(code)
    except DomainError:
        return code
    if not code:
        return _("semua wilayah Anda")
    region = Region.objects.filter(code=code).first()
    return f"{region.name} ({code})" if region is not None else code


# ------------------------------------------------------------------------------------------------------ the page


def page_rows(
    *, user: Any, filters: selectors.GapListFilters, after: int | None = None
) -> tuple[list[GapHouseholdFact], bool]:
    """One page of facts in household order, starting after household ``after`` (keyset paging: no COUNT and no
    OFFSET, so page 1 and page 4,000 cost the same), and whether another page follows."""
    facts = selectors.gap_households(user=user, filters=filters).order_by("household_id")
    if after is not None:
        facts = facts.filter(household_id__gt=after)
    rows = list(facts[: PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def page_items(rows: Sequence[GapHouseholdFact], labels: Labels) -> list[dict[str, Any]]:
    """What the list shows per row, with the code lists as names."""
    return [
        {
            "fact": fact,
            "household": fact.household,
            "needs": labels.join(fact.needs, labels.needs),
            "kinds": labels.join(fact.kinds, labels.kinds),
            "unmet": labels.join(fact.unmet_needs, labels.needs),
            "reasons": [selectors.REASON_LABELS[code] for code in fact.reason_codes],
        }
        for fact in rows
    ]


# ------------------------------------------------------------------------------------------------------ the export


def export_queryset(*, user: Any, filters: selectors.GapListFilters) -> QuerySet[GapHouseholdFact, tuple[Any, ...]]:
    head_nik = Person.objects.filter(household=OuterRef("household_id"), relationship=Relationship.HEAD)
    return (
        selectors.gap_households(user=user, filters=filters)
        .select_related(None)
        .annotate(head_nik=Subquery(head_nik.order_by("id").values("nik")[:1]))
        .order_by("household_id")
        .values_list(
            "household_id",
            "household__head_name",
            "head_nik",
            "household__no_kk",
            "household__address",
            "household__rt",
            "household__rw",
            "household__desa__name",
            "desil",
            "needs",
            "kinds",
            "unmet_needs",
            "no_nik",
            "nik_unverified",
            "not_in_latest",
            "member_moved",
        )
    )


def export_rows(
    *, user: Any, filters: selectors.GapListFilters, reveal: bool, labels: Labels, ids: list[int]
) -> Iterator[list[Any]]:
    """The sheet's data rows up to the reasons (the verval columns stay empty); appends each household id to
    ``ids`` (the access log). Code lists repeat a lot: their display text is computed once per combination."""
    show = (lambda value: value or "") if reveal else mask_identifier
    shown: dict[tuple[str, str], str] = {}
    reasons_shown: dict[tuple[bool, ...], str] = {}

    def names(codes: str, kind: str) -> str:
        key = (kind, codes)
        if key not in shown:
            shown[key] = labels.join(codes, labels.kinds if kind == "k" else labels.needs)
        return shown[key]

    for row in export_queryset(user=user, filters=filters).iterator(chunk_size=EXPORT_CHUNK):
        (hid, name, nik, no_kk, address, rt, rw, desa, desil, needs, kinds, unmet, *reasons) = row
        ids.append(hid)
        flags = tuple(reasons)
        if flags not in reasons_shown:
            reasons_shown[flags] = reason_text(
                no_nik=flags[0], nik_unverified=flags[1], not_in_latest=flags[2], member_moved=flags[3]
            )
        yield [
            hid,
            name,
            show(nik),
            show(no_kk),
            address,
            f"{rt or '-'}/{rw or '-'}",
            desa,
            desil,
            names(needs, "n"),
            names(kinds, "k"),
            names(unmet, "n"),
            reasons_shown[flags],
        ]


def filter_text(filters: selectors.GapListFilters, labels: Labels) -> str:
    parts = [
        _("Wilayah: %(region)s") % {"region": region_label(filters.region)},
        _("Tahun %(y)s") % {"y": filters.year},
    ]
    if filters.desil is not None:
        parts.append(_("Desil %(d)s") % {"d": filters.desil})
    if filters.uncovered is True:
        parts.append(_("belum terjangkau"))
    elif filters.uncovered is False:
        parts.append(_("sudah terjangkau"))
    if filters.overlap:
        parts.append(_("tumpang tindih"))
    if filters.need:
        parts.append(_("kebutuhan belum terpenuhi: %(n)s") % {"n": labels.needs.get(filters.need, filters.need)})
    if filters.reason in selectors.REASON_LABELS:
        parts.append(str(selectors.REASON_LABELS[filters.reason]))
    return " · ".join(parts)


def _skeleton(*, filters: selectors.GapListFilters, labels: Labels, region: str) -> bytes:
    """The workbook without its data rows (openpyxl): title block, styled header, column widths, frozen panes
    and the verval columns' validations (to the sheet's last row, so rows the desa adds get them too)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Daftar kesenjangan")[:31])
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"C{HEADER_ROW + 1}"
    bold = Font(bold=True)
    title = WriteOnlyCell(sheet, value=_("Daftar keluarga by-name-by-address (BNBA) dan lembar verval"))
    title.font = Font(bold=True, size=13)
    sheet.append([title])
    sheet.append([freshness_line(year=filters.year, region=region)])
    status_list = ", ".join(VERVAL_STATUSES)
    sheet.append([
        _(
            "Isi kolom Status verval (%(statuses)s), Tanggal verval (HH-BB-TTTT) dan Keterangan, lalu unggah "
            "kembali berkas ini di halaman Daftar kesenjangan. Jangan mengubah kolom ID Keluarga (sistem)."
        ) % {"statuses": status_list}
    ])  # fmt: skip
    sheet.append([filter_text(filters, labels)])
    sheet.append([])
    verval_fill = PatternFill("solid", fgColor="FFF2CC")
    header_cells = []
    for position, header in enumerate(EXPORT_HEADERS):
        cell = WriteOnlyCell(sheet, value=str(header))
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if position >= len(EXPORT_HEADERS) - 3:
            cell.fill = verval_fill
        header_cells.append(cell)
    sheet.append(header_cells)
    status_col = get_column_letter(len(EXPORT_HEADERS) - 2)
    date_col = get_column_letter(len(EXPORT_HEADERS) - 1)
    statuses = DataValidation(
        type="list",
        formula1='"' + ",".join(VERVAL_STATUSES) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=str(_("Status verval")),
        error=str(_("Pilih salah satu: %(statuses)s") % {"statuses": status_list}),
    )
    statuses.add(f"{status_col}{HEADER_ROW + 1}:{status_col}{MAX_ROW}")
    sheet.data_validations.append(statuses)
    dates = DataValidation(
        type="date",
        operator="between",
        formula1="DATE(2000,1,1)",
        formula2="DATE(2100,12,31)",
        allow_blank=True,
        showErrorMessage=True,
        error=str(_("Isi tanggal, mis. 15-03-2026.")),
    )
    dates.add(f"{date_col}{HEADER_ROW + 1}:{date_col}{MAX_ROW}")
    sheet.data_validations.append(dates)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SEPARATOR = "\ue000"  # joins a row's texts so they are cleaned and escaped in one pass (removed from the data)


def _escaped(texts: list[str]) -> list[str]:
    """The texts with XML-illegal characters removed and ``& < >`` escaped, in one pass over the row."""
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != len(texts) - 1:  # the separator itself occurs in the data
        joined = _SEPARATOR.join(text.replace(_SEPARATOR, "") for text in texts)
    joined = _ILLEGAL_XML.sub("", joined.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return joined.split(_SEPARATOR)


def _rows_xml(rows: Iterator[list[Any]], first_row: int, counter: list[int]) -> Iterator[str]:
    """``<row>`` elements of the data rows: whole numbers as numbers, texts as inline strings (no shared-strings
    table held in memory), blank cells left out."""
    letters = [get_column_letter(i) for i in range(1, len(EXPORT_HEADERS) + 1)]
    number = first_row
    for row in rows:
        texts = ["" if value is None or type(value) is int else str(value) for value in row]
        parts = []
        for i, text in enumerate(_escaped(texts)):
            if text:
                parts.append(
                    f'<c r="{letters[i]}{number}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
                )
            elif type(row[i]) is int:
                parts.append(f'<c r="{letters[i]}{number}"><v>{row[i]}</v></c>')
        yield f'<row r="{number}">{"".join(parts)}</row>'
        number += 1
        counter[0] += 1


def export_write(
    target: str | IO[bytes], *, user: Any, filters: selectors.GapListFilters, reveal: bool, ids: list[int]
) -> int:
    """Write the gap list / verval sheet of ``filters`` to ``target``; returns the number of households.

    openpyxl builds the workbook around the data (styles, validations, frozen header); the data rows are then
    streamed straight into the worksheet's XML inside the zip as the database cursor yields them. openpyxl's
    own cell writer takes ~38 s per 100k rows of 15 columns here (no lxml); this path ~6 s, in constant memory.
    """
    labels = Labels.load()
    region = scoped_region(user, filters.region)
    skeleton = zipfile.ZipFile(io.BytesIO(_skeleton(filters=filters, labels=labels, region=region)))
    sheet_name = next(n for n in skeleton.namelist() if n.startswith("xl/worksheets/sheet"))
    sheet_xml = skeleton.read(sheet_name).decode()
    sheet_xml = re.sub(r"<dimension [^>]*/>", "", sheet_xml)
    head, tail = sheet_xml.split("</sheetData>", 1)
    counter = [0]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as out:
        for info in skeleton.infolist():
            if info.filename != sheet_name:
                out.writestr(info, skeleton.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
                continue
            with out.open(sheet_name, "w", force_zip64=True) as sheet:
                sheet.write(head.encode())
                rows = export_rows(user=user, filters=filters, reveal=reveal, labels=labels, ids=ids)
                batch: list[str] = []
                for row_xml in _rows_xml(rows, HEADER_ROW + 1, counter):
                    batch.append(row_xml)
                    if len(batch) >= WRITE_BATCH:
                        sheet.write("".join(batch).encode())
                        batch = []
                sheet.write(("".join(batch) + "</sheetData>" + tail).encode())
    return counter[0]


def export_filename(filters: selectors.GapListFilters, *, today: dt.date | None = None) -> str:
    region = re.sub(r"[^0-9]", "", filters.region) or "semua"
    day = (today or timezone.localdate()).isoformat()
    return f"daftar-kesenjangan-{region}-{filters.year}-{day}.xlsx"
