"""Header row detection, header aliases per file kind, and the lazy row parser.

``parse_file(path, kind)`` finds the header row in the first ``HEADER_SCAN_ROWS`` rows (exports may start
with a title block), matches the headers case-, space- and punctuation-insensitively through the alias
table of that kind (``FILE_SPECS``), refuses a file with no recognisable header, missing required columns
or of another kind, and returns a ``ParsedFile`` whose ``rows`` parse lazily, one pass, in constant memory.

The alias tables are data: a new export year with other header names needs only new aliases here.
Unmatched columns are never dropped: every non-blank cell of a row is kept in ``ParsedRow.raw`` under its
header as written.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.importing import cells
from households.importing.cells import Parser, Result
from households.importing.reader import Cell, open_rows, sniff_format
from households.importing.types import (
    DTKS,
    DTSEN,
    FAMILY,
    INTERVENTION,
    PERSON,
    FileKind,
    ImportFileError,
    ParsedRow,
)

HEADER_SCAN_ROWS = 40  # the header row is looked for in these first rows (title blocks are ~12 rows)
MIN_HEADER_MATCHES = 2  # a header row names at least this many known columns
WRONG_KIND_MARGIN = 4  # another kind must score this much higher to refuse a file that has our required columns
EXCLUSIVE_WEIGHT = 2  # extra score for a header that only one kind knows (e.g. "ID Individu", "IDDTKS")
MEMO_MAX = 4096  # distinct cell texts remembered per low-cardinality column
DATE_MEMO_MAX = 50_000  # birth dates repeat: 100 years are 36,525 days

_HEADER_DROP = str.maketrans("", "", string.punctuation + string.whitespace + "\u00a0\u2013\u2014\u2019\u201c\u201d")


def normalize_header(text: str) -> str:
    """``"Desil  Kesejahteraan"``, ``"DESIL_KESEJAHTERAAN"``, ``"desil-kesejahteraan"`` -> ``"desilkesejahteraan"``."""
    return text.translate(_HEADER_DROP).lower()


@dataclass(frozen=True)
class FieldSpec:
    """One target field: its aliases (headers seen in exports), its cell parser, whether rows need it.

    ``outputs``: the value keys a tuple-valued parser fills (NIK -> nik, nik_status, nik_note); empty means
    the parser's value goes under ``name``.
    """

    name: str
    aliases: tuple[str, ...]
    parser: Parser
    required: bool = False
    outputs: tuple[str, ...] = ()
    # How many distinct cell texts to remember results for (columns with few distinct values: code words,
    # region names, occupations, dates). None: decided by the parser; 0: no memo.
    memo: int | None = None

    @property
    def memo_size(self) -> int:
        if self.memo is not None:
            return self.memo
        if self.parser is cells.parse_date:
            return DATE_MEMO_MAX
        return MEMO_MAX if self.parser in cells.LOW_CARDINALITY else 0

    @property
    def keys(self) -> tuple[str, ...]:
        return self.outputs or (self.name,)


class FileSpec:
    """The fields of one file kind and the alias lookup built from them (once)."""

    def __init__(self, kind: str, label: str | Promise, fields: Sequence[FieldSpec]) -> None:
        self.kind = kind
        self.label = label  # "berkas keluarga P3KE": used in messages
        self.fields = tuple(fields)
        self.by_alias: dict[str, FieldSpec] = {}
        for spec in self.fields:
            for alias in (spec.name, *spec.aliases):
                key = normalize_header(alias)
                other = self.by_alias.setdefault(key, spec)
                if other is not spec:
                    raise ValueError(f"{kind}: alias {alias!r} of {spec.name} already names {other.name}")
        self.required = tuple(spec for spec in self.fields if spec.required)

    def __repr__(self) -> str:
        return f"FileSpec({self.kind!r})"


# ----------------------------------------------------------------------------------------------------------
# Alias tables

_ID_KELUARGA_P3KE = (
    "ID Keluarga P3KE", "ID Keluarga", "IDKELUARGA", "ID_KELUARGA_P3KE", "IDKELUARGAP3KE", "ID Kel P3KE", "ID P3KE",
    "ID Keluarga (P3KE)",
)  # fmt: skip
_PROVINCE = ("Provinsi", "Nama Provinsi", "NAMA_PROVINSI", "NAMA_PROV", "Prov")
_KABUPATEN = (
    "Kabupaten/Kota", "Kabupaten", "Kota", "Kab/Kota", "Kab", "Nama Kabupaten", "Nama Kabupaten/Kota", "KABUPATEN_KOTA",
    "NAMA_KAB", "Kabupaten Kota",
)  # fmt: skip
_KECAMATAN = ("Kecamatan", "Nama Kecamatan", "NAMA_KEC", "Kec")
_DESA = (
    "Desa/Kelurahan", "Desa", "Kelurahan", "Desa/Kel", "Kelurahan/Desa", "Nama Desa", "Nama Desa/Kelurahan",
    "NAMA_DESA", "DESA_KELURAHAN", "Nama Kelurahan",
)  # fmt: skip
_REGION_CODE = (
    "Kode Kemendagri", "Kode Wilayah", "KODE_DESA", "Kode Desa", "Kode Desa/Kelurahan", "Kode Kemendagri Desa",
    "Kode Wilayah Kemendagri", "KODE_WILAYAH", "KD_DESA", "KDDESA", "Kode Wil", "Kode Desa Kemendagri",
    "Kode Kemendagri Desa/Kelurahan", "Kode Kelurahan", "KODE_KEMENDAGRI",
)  # fmt: skip
_ADDRESS = ("Alamat", "Alamat Lengkap", "Alamat Domisili", "Alamat Rumah", "Alamat Tempat Tinggal")
_DUSUN = ("Dusun", "Nama Dusun", "Dusun/Lingkungan", "Lingkungan")
_RT = ("RT", "No RT", "Nomor RT")
_RW = ("RW", "No RW", "Nomor RW")
_NO_KK = ("No KK", "Nomor KK", "NOKK", "NO_KK", "Nomor Kartu Keluarga", "No Kartu Keluarga", "NKK")
_SEX = ("Jenis Kelamin", "JK", "JENIS_KELAMIN", "L/P", "Kelamin", "Gender")
_BIRTH_DATE = ("Tanggal Lahir", "Tgl Lahir", "TGL_LAHIR", "TANGGAL_LAHIR", "Tgl. Lahir")
_RELATIONSHIP = (
    "Hubungan dengan Kepala Keluarga", "Hubungan Keluarga", "Hubungan", "HUBUNGAN_KELUARGA", "Hubungan dengan KK",
    "Hub KK", "SHDK", "Status Hubungan Dalam Keluarga", "Hubungan dengan Kepala Rumah Tangga", "Status Dalam Keluarga",
)  # fmt: skip
_NAME = ("Nama", "Nama Lengkap", "NAMA_LENGKAP", "Nama Individu", "Nama Anggota Keluarga", "Nama ART")
_OCCUPATION = ("Pekerjaan", "Jenis Pekerjaan", "Pekerjaan Utama")
_EDUCATION = ("Pendidikan", "Pendidikan Terakhir", "Ijazah Tertinggi", "Jenjang Pendidikan")


def _flag(name: str, *aliases: str) -> FieldSpec:
    return FieldSpec(name, aliases, cells.parse_bool)


FAMILY_SPEC = FileSpec(
    FAMILY,
    gettext_lazy("berkas keluarga P3KE"),
    [
        FieldSpec("id_keluarga", _ID_KELUARGA_P3KE, cells.parse_id, required=True),
        FieldSpec("province_name", _PROVINCE, cells.parse_text, memo=MEMO_MAX),
        FieldSpec("kabupaten_name", _KABUPATEN, cells.parse_text, memo=MEMO_MAX),
        FieldSpec("kecamatan_name", _KECAMATAN, cells.parse_text, memo=MEMO_MAX),
        FieldSpec("desa_name", _DESA, cells.parse_text, memo=MEMO_MAX),
        FieldSpec("region_code", _REGION_CODE, cells.parse_region_code, required=True),
        FieldSpec("address", _ADDRESS, cells.parse_text),
        FieldSpec("dusun", _DUSUN, cells.parse_text, memo=MEMO_MAX),
        FieldSpec("rt", _RT, cells.parse_rt_rw),
        FieldSpec("rw", _RW, cells.parse_rt_rw),
        FieldSpec(
            "desil",
            ("Desil Kesejahteraan", "DESIL", "desil_kesejahteraan", "Desil Keluarga", "Kategori Desil"),
            cells.parse_desil,
        ),
        FieldSpec(
            "persentil",
            ("Persentil", "Peringkat Kesejahteraan", "Persentil Kesejahteraan", "Peringkat", "Peringkat Persentil"),
            cells.parse_persentil,
        ),
        FieldSpec(
            "head_name",
            (
                "Nama Kepala Keluarga",
                "Kepala Keluarga",
                "Nama",
                "Nama KK",
                "NAMA_KEPALA_KELUARGA",
                "Nama Kepala Rumah Tangga",
                "Nama KRT",
            ),
            cells.parse_text,
            required=True,
        ),
        FieldSpec(
            "head_nik",
            ("NIK", "NIK Kepala Keluarga", "NIK KK", "NIK_KEPALA_KELUARGA", "NIK KRT"),
            cells.parse_nik,
            outputs=("head_nik", "head_nik_status", "head_nik_note"),
        ),
        FieldSpec("head_sex", (*_SEX, "Jenis Kelamin Kepala Keluarga"), cells.parse_sex),
        FieldSpec("head_birth_date", (*_BIRTH_DATE, "Tanggal Lahir Kepala Keluarga"), cells.parse_date),
        FieldSpec("head_occupation", (*_OCCUPATION, "Pekerjaan Kepala Keluarga"), cells.parse_text, memo=MEMO_MAX),
        FieldSpec("head_education", (*_EDUCATION, "Pendidikan Kepala Keluarga"), cells.parse_education),
        FieldSpec("no_kk", _NO_KK, cells.parse_no_kk),
        FieldSpec(
            "house_ownership",
            (
                "Kepemilikan Rumah",
                "Status Kepemilikan Rumah",
                "Status Rumah",
                "Kepemilikan Bangunan",
                "Status Kepemilikan Bangunan Tempat Tinggal",
                "Status Kepemilikan Bangunan",
            ),
            cells.parse_house_ownership,
        ),
        FieldSpec("roof_type", ("Jenis Atap", "Atap", "Bahan Atap", "Jenis Atap Rumah"), cells.parse_roof_type),
        FieldSpec("roof_quality", ("Kualitas Atap", "Kondisi Atap"), cells.parse_building_quality),
        FieldSpec(
            "wall_type", ("Jenis Dinding", "Dinding", "Bahan Dinding", "Jenis Dinding Rumah"), cells.parse_wall_type
        ),
        FieldSpec("wall_quality", ("Kualitas Dinding", "Kondisi Dinding"), cells.parse_building_quality),
        FieldSpec(
            "floor_type", ("Jenis Lantai", "Lantai", "Bahan Lantai", "Jenis Lantai Rumah"), cells.parse_floor_type
        ),
        FieldSpec("floor_quality", ("Kualitas Lantai", "Kondisi Lantai"), cells.parse_building_quality),
        FieldSpec(
            "lighting_source",
            ("Sumber Penerangan", "Sumber Penerangan Utama", "Penerangan"),
            cells.parse_lighting_source,
        ),
        FieldSpec(
            "power_capacity",
            ("Daya Listrik", "Daya Terpasang", "Daya", "Daya Listrik Terpasang"),
            cells.parse_power_capacity,
        ),
        FieldSpec(
            "cooking_fuel",
            ("Bahan Bakar Memasak", "Bahan Bakar Utama Memasak", "Bahan Bakar", "Energi Memasak"),
            cells.parse_cooking_fuel,
        ),
        FieldSpec(
            "water_source",
            ("Sumber Air Minum", "Air Minum", "Sumber Air Minum Utama", "Sumber Air"),
            cells.parse_water_source,
        ),
        FieldSpec(
            "toilet_facility",
            (
                "Fasilitas BAB",
                "Memiliki Fasilitas BAB",
                "Fasilitas Buang Air Besar",
                "Kepemilikan Fasilitas BAB",
                "BAB",
                "Jamban",
            ),
            cells.parse_toilet_facility,
        ),
        _flag(
            "stunting_risk",
            "Resiko Stunting",
            "Risiko Stunting",
            "Beresiko Stunting",
            "Berisiko Stunting",
            "Keluarga Berisiko Stunting",
            "Stunting",
        ),
        _flag(
            "has_savings",
            "Simpanan",
            "Memiliki Simpanan/Tabungan",
            "Memiliki Simpanan",
            "Memiliki Tabungan",
            "Tabungan",
            "Simpanan/Tabungan",
        ),
        _flag("has_land", "Memiliki Lahan", "Kepemilikan Lahan", "Lahan"),
        _flag(
            "has_vehicle",
            "Memiliki Kendaraan",
            "Memiliki Kendaraan Bermotor",
            "Kendaraan Bermotor",
            "Kepemilikan Kendaraan",
        ),
        _flag(
            "extreme_poverty",
            "Miskin Ekstrem",
            "Kemiskinan Ekstrem",
            "Status Miskin Ekstrem",
            "Keluarga Miskin Ekstrem",
            "Penduduk Miskin Ekstrem",
        ),
        _flag("receives_bpnt", "Penerima BPNT", "BPNT"),
        _flag("receives_bpum", "Penerima BPUM", "BPUM"),
        _flag("receives_bst", "Penerima BST", "BST"),
        _flag("receives_pkh", "Penerima PKH", "PKH"),
        _flag("receives_sembako", "Penerima SEMBAKO", "SEMBAKO", "Penerima Program Sembako"),
        _flag("receives_prakerja", "Penerima Prakerja", "Prakerja", "Penerima Kartu Prakerja"),
        _flag("receives_kur", "Penerima KUR", "KUR"),
        FieldSpec(
            "verification_priority",
            ("Prioritas Verval", "Prioritas Verifikasi", "Prioritas Verifikasi dan Validasi", "Verval"),
            cells.parse_verification_priority,
        ),
    ],
)

PERSON_SPEC = FileSpec(
    PERSON,
    gettext_lazy("berkas individu P3KE"),
    [
        FieldSpec("id_keluarga", _ID_KELUARGA_P3KE, cells.parse_id, required=True),
        FieldSpec(
            "id_individu",
            ("ID Individu", "ID Individu P3KE", "IDINDIVIDU", "ID_INDIVIDU_P3KE", "ID ART", "ID Anggota Keluarga"),
            cells.parse_id,
            required=True,
        ),
        FieldSpec("name", _NAME, cells.parse_text, required=True),
        FieldSpec(
            "nik",
            ("NIK", "NIK Individu", "Nomor Induk Kependudukan"),
            cells.parse_nik,
            outputs=("nik", "nik_status", "nik_note"),
        ),
        FieldSpec("sex", _SEX, cells.parse_sex),
        FieldSpec("relationship", _RELATIONSHIP, cells.parse_relationship),
        FieldSpec("birth_date", _BIRTH_DATE, cells.parse_date),
        FieldSpec(
            "marital_status",
            ("Status Kawin", "Status Perkawinan", "Status Pernikahan", "STATUS_KAWIN"),
            cells.parse_marital_status,
        ),
        FieldSpec("occupation", _OCCUPATION, cells.parse_text, memo=MEMO_MAX),
        FieldSpec(
            "work_status",
            ("Status Pekerjaan", "Status Dalam Pekerjaan", "Status Pekerjaan Utama", "STATUS_PEKERJAAN"),
            cells.parse_work_status,
        ),
        FieldSpec("education", _EDUCATION, cells.parse_education),
        FieldSpec(
            "disability",
            ("Disabilitas", "Jenis Disabilitas", "Penyandang Disabilitas", "Jenis Cacat", "Kecacatan"),
            cells.parse_disability,
        ),
    ],
)

DTKS_SPEC = FileSpec(
    DTKS,
    gettext_lazy("berkas DTKS"),
    [
        FieldSpec("id_dtks", ("IDDTKS", "ID DTKS", "ID_DTKS", "ID Individu DTKS"), cells.parse_id, required=True),
        FieldSpec("no_kk", _NO_KK, cells.parse_no_kk),
        FieldSpec(
            "nik",
            ("NIK", "Nomor Induk Kependudukan", "NIK_ART"),
            cells.parse_nik,
            outputs=("nik", "nik_status", "nik_note"),
        ),
        FieldSpec("name", (*_NAME, "NAMA_ART"), cells.parse_text, required=True),
        FieldSpec("address", _ADDRESS, cells.parse_text),
        FieldSpec("dusun", _DUSUN, cells.parse_text, memo=MEMO_MAX),
        FieldSpec("rt", _RT, cells.parse_rt_rw),
        FieldSpec("rw", _RW, cells.parse_rt_rw),
        FieldSpec("birth_place", ("Tempat Lahir", "TEMPAT_LAHIR", "Tmp Lahir"), cells.parse_text, memo=MEMO_MAX),
        FieldSpec("birth_date", _BIRTH_DATE, cells.parse_date),
        FieldSpec(
            "birth_place_date",
            ("Tempat/Tanggal Lahir", "Tempat Tanggal Lahir", "TTL", "TEMPAT_TGL_LAHIR", "Tempat/Tgl Lahir"),
            cells.parse_birth_place_date,
            outputs=("birth_place", "birth_date"),
        ),
        FieldSpec("sex", _SEX, cells.parse_sex),
        FieldSpec(
            "mother_name",
            ("Nama Ibu Kandung", "NAMA_IBU_KANDUNG", "Ibu Kandung", "Nama Ibu"),
            cells.parse_text,
        ),
        FieldSpec("relationship", _RELATIONSHIP, cells.parse_relationship),
        FieldSpec("region_code", _REGION_CODE, cells.parse_region_code),
        FieldSpec("province_name", _PROVINCE, cells.parse_text, memo=MEMO_MAX),
        FieldSpec("kabupaten_name", _KABUPATEN, cells.parse_text, memo=MEMO_MAX),
        FieldSpec("kecamatan_name", _KECAMATAN, cells.parse_text, memo=MEMO_MAX),
        FieldSpec("desa_name", _DESA, cells.parse_text, memo=MEMO_MAX),
    ],
)

DTSEN_SPEC = FileSpec(
    DTSEN,
    gettext_lazy("berkas DTSEN"),
    [
        FieldSpec(
            "id_dtsen_keluarga",
            (
                "ID Keluarga DTSEN",
                "IDKELUARGA_DTSEN",
                "ID_KELUARGA_DTSEN",
                "ID DTSEN Keluarga",
                "ID DTSEN",
                "ID_DTSEN",
                "ID Keluarga Nasional",
            ),
            cells.parse_id,
            required=True,
        ),
        FieldSpec(
            "id_dtsen_individu",
            ("ID Individu DTSEN", "IDINDIVIDU_DTSEN", "ID_INDIVIDU_DTSEN", "ID DTSEN Individu", "ID ART DTSEN"),
            cells.parse_id,
        ),
        FieldSpec("no_kk", _NO_KK, cells.parse_no_kk),
        FieldSpec(
            "nik",
            ("NIK", "Nomor Induk Kependudukan"),
            cells.parse_nik,
            outputs=("nik", "nik_status", "nik_note"),
        ),
        FieldSpec("name", _NAME, cells.parse_text, required=True),
        FieldSpec("relationship", _RELATIONSHIP, cells.parse_relationship),
        FieldSpec("sex", _SEX, cells.parse_sex),
        FieldSpec("birth_date", _BIRTH_DATE, cells.parse_date),
        FieldSpec("region_code", _REGION_CODE, cells.parse_region_code),
        FieldSpec("address", _ADDRESS, cells.parse_text),
        FieldSpec(
            "desil",
            ("Desil Nasional", "Desil", "DESIL_NASIONAL", "Desil Kesejahteraan", "Desil DTSEN", "Peringkat Desil"),
            cells.parse_desil,
        ),
    ],
)

# A program's deliveries (the spreadsheet round-trip of ``programs.importing``): the household by ID Keluarga
# P3KE or NIK (one of them; checked per row), the delivery's date, value, quantity, status and note. The
# "(info)" columns of the downloaded template only help the officer find the family; they are not imported.
INTERVENTION_SPEC = FileSpec(
    INTERVENTION,
    gettext_lazy("berkas penyaluran program"),
    [
        FieldSpec("id_keluarga", _ID_KELUARGA_P3KE, cells.parse_id),
        FieldSpec(
            "nik", ("NIK", "NIK Penerima", "NIK Penerima Manfaat", "NIK Anggota Keluarga"), cells.parse_recipient_nik
        ),
        FieldSpec(
            "delivered_on",
            ("Tanggal Penyaluran", "Tgl Penyaluran", "Tanggal Salur", "Tanggal Realisasi", "Tanggal Diterima"),
            cells.parse_date,
            required=True,
        ),
        FieldSpec("value", ("Nilai (Rp)", "Nilai", "Nilai Bantuan", "Nominal", "Nilai Penyaluran"), cells.parse_amount),
        FieldSpec("quantity", ("Jumlah", "Qty", "Banyaknya", "Volume"), cells.parse_amount),
        FieldSpec("status", ("Status", "Status Penyaluran"), cells.parse_delivery_status),
        FieldSpec("note", ("Keterangan", "Catatan", "Ket"), cells.parse_text),
        FieldSpec("info_head_name", ("Nama Kepala Keluarga (info)",), cells.parse_text, memo=0),
        FieldSpec("info_desa", ("Desa/Kelurahan (info)",), cells.parse_text, memo=MEMO_MAX),
    ],
)

FILE_SPECS: dict[str, FileSpec] = {
    spec.kind: spec for spec in (FAMILY_SPEC, PERSON_SPEC, DTKS_SPEC, DTSEN_SPEC, INTERVENTION_SPEC)
}
# Normalised alias -> the kinds that know it (header detection and "exclusive" headers).
_ALIAS_KINDS: dict[str, frozenset[str]] = {
    key: frozenset(kind for kind, spec in FILE_SPECS.items() if key in spec.by_alias)
    for key in set().union(*(spec.by_alias for spec in FILE_SPECS.values()))
}


# ----------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class ColumnMatch:
    index: int  # 0-based column index
    header: str  # as written (runs of spaces collapsed)
    field: str | None  # FieldSpec.name, None when no alias matched (the column is kept in ``raw`` only)


@dataclass
class ParsedFile:
    kind: str
    header_row: int  # 1-based
    columns: list[ColumnMatch]
    unmatched: list[str]
    rows: Iterator[ParsedRow] = field(repr=False)

    @property
    def field_headers(self) -> dict[str, str]:
        """Field name -> its header as written (for messages about a whole column)."""
        return {c.field: c.header for c in self.columns if c.field}


@dataclass(frozen=True)
class KindScore:
    kind: str
    score: int
    matched: frozenset[str]
    missing: tuple[FieldSpec, ...]  # required fields without a column


# ----------------------------------------------------------------------------------------------------------
# Header


def header_text(cell: Cell) -> str:
    return " ".join(cells.cell_text(cell).split())


def _header_hits(row: Sequence[Cell]) -> int:
    keys = {normalize_header(header_text(cell)) for cell in row if not cells.is_blank(cell)}
    return sum(1 for key in keys if key in _ALIAS_KINDS)


def find_header(rows: Sequence[Sequence[Cell]]) -> int | None:
    """0-based index of the row naming the most known columns (the first on a tie), None if none names two."""
    best, best_hits = None, MIN_HEADER_MATCHES - 1
    for index, row in enumerate(rows):
        hits = _header_hits(row)
        if hits > best_hits:
            best, best_hits = index, hits
    return best


def score_kinds(headers: Sequence[str]) -> dict[str, KindScore]:
    """How well a header row fits each kind: matched fields, plus a bonus for headers only that kind knows."""
    keys = [normalize_header(h) for h in headers if h]
    scores: dict[str, KindScore] = {}
    for kind, spec in FILE_SPECS.items():
        matched = frozenset(spec.by_alias[key].name for key in keys if key in spec.by_alias)
        exclusive = sum(1 for key in set(keys) if _ALIAS_KINDS.get(key) == frozenset({kind}))
        missing = tuple(f for f in spec.required if f.name not in matched)
        scores[kind] = KindScore(kind, len(matched) + EXCLUSIVE_WEIGHT * exclusive, matched, missing)
    return scores


def check_kind(kind: str, headers: Sequence[str], header_row: int) -> None:
    """Refuse a header of another kind, or one without our required columns (``ImportFileError``)."""
    scores = score_kinds(headers)
    ours = scores[kind]
    others = sorted((s for s in scores.values() if s.kind != kind and not s.missing), key=lambda s: -s.score)
    margin = 1 if ours.missing else WRONG_KIND_MARGIN
    if others and others[0].score >= ours.score + margin:
        raise ImportFileError(
            _(
                "Berkas ini tampak seperti %(found)s, bukan %(expected)s. Periksa kembali berkas yang diunggah "
                "atau pilih jenis berkas yang sesuai."
            )
            % {"found": FILE_SPECS[others[0].kind].label, "expected": FILE_SPECS[kind].label},
            "file_wrong_kind",
        )
    if ours.missing:
        names = ", ".join(f"“{f.aliases[0]}”" for f in ours.missing)
        raise ImportFileError(
            _(
                "Kolom wajib tidak ditemukan pada baris judul kolom (baris %(row)s): %(columns)s. Periksa nama kolom "
                "atau pastikan berkas ini adalah %(expected)s."
            )
            % {"row": header_row, "columns": names, "expected": FILE_SPECS[kind].label},
            "file_missing_columns",
        )


def _no_header(kind: str) -> ImportFileError:
    spec = FILE_SPECS[kind]
    examples = ", ".join(f"“{f.aliases[0]}”" for f in spec.required)
    return ImportFileError(
        _(
            "Baris judul kolom tidak ditemukan pada %(rows)s baris pertama. Pastikan berkas adalah %(expected)s "
            "dengan judul kolom seperti %(examples)s."
        )
        % {"rows": HEADER_SCAN_ROWS, "expected": spec.label, "examples": examples},
        "file_no_header",
    )


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _is_column_number_row(row: Sequence[Cell], width: int) -> bool:
    """The ``1 | 2 | 3 | ...`` or ``(1) | (2) | ...`` row some government tables put under the header."""
    numbers = []
    for cell in row:
        if cells.is_blank(cell):
            continue
        text = cells.cell_text(cell).strip().strip("()")
        if not (text.isdigit() and text.isascii()):
            return False
        numbers.append(int(text))
    # 1, 2, 3, ... (or from 0) across most of the header: never a data row, which would hold names or ids.
    return (
        len(numbers) >= max(3, width // 2)
        and numbers[0] in (0, 1)
        and numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    )


# ----------------------------------------------------------------------------------------------------------
# Rows


class _Memo(dict[str, Result]):
    """Parser results by cell text, up to ``capacity`` entries (then new texts are parsed every time)."""

    __slots__ = ("capacity",)

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity


# One matched column in the row loop: (index, value key(s), parser, header, memo or None, required).
_Step = tuple[int, str, Parser, str, _Memo | None, bool]
_SpreadStep = tuple[int, tuple[str, ...], Parser, str, _Memo | None, bool]


@dataclass(frozen=True)
class _Plan:
    single: tuple[_Step, ...]
    spread: tuple[_SpreadStep, ...]  # tuple-valued parsers (NIK, tempat/tanggal lahir)


def match_columns(
    header_cells: Sequence[Cell], spec: FileSpec
) -> tuple[list[ColumnMatch], list[str], list[str | None]]:
    """Columns with their field, unmatched headers, and the unique raw key of every column (None = no header)."""
    headers = [header_text(cell) for cell in header_cells]
    claimed: set[str] = set()
    matched: dict[int, FieldSpec] = {}
    # Single-value fields first: a combined column (tempat/tanggal lahir) only fills what they leave.
    candidates = [(i, spec.by_alias.get(normalize_header(h))) for i, h in enumerate(headers) if h]
    for spread in (False, True):
        for index, found in candidates:
            if found is None or bool(found.outputs) != spread or claimed.intersection(found.keys):
                continue
            claimed.update(found.keys)
            matched[index] = found
    columns: list[ColumnMatch] = []
    unmatched: list[str] = []
    raw_keys: list[str | None] = []
    seen: set[str] = set()
    for index, header in enumerate(headers):
        if not header:
            raw_keys.append(None)
            continue
        found = matched.get(index)
        columns.append(ColumnMatch(index, header, found.name if found else None))
        if found is None:
            unmatched.append(header)
        key = header if header not in seen else f"{header} ({column_letter(index)})"
        seen.add(key)
        raw_keys.append(key)
    return columns, unmatched, raw_keys


def _plan(columns: Iterable[ColumnMatch], spec: FileSpec) -> _Plan:
    by_name = {f.name: f for f in spec.fields}
    single: list[_Step] = []
    spread: list[_SpreadStep] = []
    for column in columns:
        if column.field is None:
            continue
        found = by_name[column.field]
        memo = _Memo(found.memo_size) if found.memo_size else None
        if found.outputs:
            spread.append((column.index, found.outputs, found.parser, column.header, memo, found.required))
        else:
            single.append((column.index, found.name, found.parser, column.header, memo, found.required))
    return _Plan(tuple(single), tuple(spread))


def _raw_builder(raw_keys: list[str | None], text_cells: bool) -> Callable[[list[Cell]], dict[str, str]]:
    """Row -> ``{header: text}`` of every cell under a header (blank -> ``""``), plus any non-blank cell under
    no header as ``"Kolom <letter>"``. ``text_cells``: every cell is already ``str`` (csv)."""
    while raw_keys and raw_keys[-1] is None:  # blank header cells at the end (formatted but empty columns)
        raw_keys = raw_keys[:-1]
    width = len(raw_keys)
    named = [(i, key) for i, key in enumerate(raw_keys) if key is not None]
    keys = [key for _i, key in named]
    dense = len(named) == width
    text = cells.cell_text
    padding: list[Cell] = [""] * width

    def build_slow(row: list[Cell]) -> dict[str, str]:
        length = len(row)
        raw = {key: (text(row[i]) if i < length else "") for i, key in named}
        for i in range(length):
            if (i >= width or raw_keys[i] is None) and not cells.is_blank(row[i]):
                raw[f"Kolom {column_letter(i)}"] = text(row[i])  # a data key: not translated
        return raw

    def build(row: list[Cell]) -> dict[str, str]:
        length = len(row)
        if length != width:
            if length < width:
                row = row + padding[length:]
            elif not dense or any(row[width:]) or 0 in row[width:]:  # 0 / False are data too
                return build_slow(row)
        elif not dense:
            return build_slow(row)
        if text_cells:
            return dict(zip(keys, row, strict=False))  # type: ignore[arg-type]
        return {k: (v if isinstance(v, str) else text(v)) for k, v in zip(keys, row, strict=False)}

    return build


def _remember(memo: _Memo, parse: Parser, cell: Cell, column: str) -> Result:
    result = parse(cell, column)
    if isinstance(cell, str) and len(memo) < memo.capacity:
        memo[cell] = result
    return result


RowParser = Callable[[list[Cell], int], ParsedRow]


def compile_row_parser(plan: _Plan, raw_of: Callable[[list[Cell]], dict[str, str]]) -> RowParser:
    """One straight-line function for this file's columns: ``(row, row_number) -> ParsedRow``.

    The hot path of every import (a million rows). The loop over columns is unrolled once per file so that a
    row costs only its parser calls: no per-column tuple unpacking or branching on the column's options. The
    generated source holds only local names and integer indices; parsers, headers (user text) and field
    names are passed in through the namespace, never written into the source.
    """
    namespace: dict[str, Any] = {
        "ParsedRow": ParsedRow,
        "RAW": raw_of,
        "REQ": cells.required_issue,
        "REMEMBER": _remember,
        "str": str,
        "len": len,
    }
    width = 1 + max([step[0] for step in plan.single] + [step[0] for step in plan.spread], default=0)
    namespace["WIDTH"], namespace["PAD"] = width, [""] * width
    body = ["def parse_row(row, number):", "    if len(row) < WIDTH:", "        row = row + PAD[len(row):]"]
    body.append("    issues = []")
    items: list[str] = []
    for i, (index, key, parse, column, memo, required) in enumerate(plan.single):
        namespace[f"P{i}"], namespace[f"H{i}"], namespace[f"K{i}"] = parse, column, key
        body.append(f"    c = row[{index}]")
        if memo is not None:
            namespace[f"M{i}"] = memo
            body.append(f"    r = M{i}.get(c) if c.__class__ is str else None")
            body.append(f"    v{i}, p = r if r is not None else REMEMBER(M{i}, P{i}, c, H{i})")
        else:
            body.append(f"    v{i}, p = P{i}(c, H{i})")
        body.append("    if p is not None:")
        body.append("        issues.append(p)")
        if required:
            body.append(f"    elif v{i} is None:")
            body.append(f"        issues.append(REQ(H{i}, c))")
        items.append(f"K{i}: v{i}")
    for i, (index, keys, parse, column, _memo, _required) in enumerate(plan.spread):
        namespace[f"S{i}"], namespace[f"SH{i}"] = parse, column
        body.append(f"    s{i}, p = S{i}(row[{index}], SH{i})")
        body.append("    if p is not None:")
        body.append("        issues.append(p)")
        for j, key in enumerate(keys):
            namespace[f"SK{i}_{j}"] = key
            items.append(f"SK{i}_{j}: s{i}[{j}]")
    body.append(f"    return ParsedRow(number, {{{', '.join(items)}}}, RAW(row), issues)")
    exec(compile("\n".join(body), "<tkpk-import-row-parser>", "exec"), namespace)  # noqa: S102 - no user text in source
    parser: RowParser = namespace["parse_row"]
    return parser


def _parse_rows(rows: Iterable[list[Cell]], first_row_number: int, parse_row: RowParser) -> Iterator[ParsedRow]:
    number = first_row_number - 1
    for row in rows:
        number += 1
        if not any(row) and all(cell == "" or cell is None for cell in row):
            continue  # a blank row: not data, not counted
        yield parse_row(row, number)


def parse_rows(rows: Iterable[list[Cell]], kind: FileKind, *, text_cells: bool = False) -> ParsedFile:
    """Like ``parse_file`` for rows already read (the reader's rows, or lists built by tests).

    ``text_cells``: every cell is a ``str`` (csv), which lets the raw row be built without conversions."""
    if kind not in FILE_SPECS:
        raise ValueError(f"unknown file kind {kind!r}")
    spec = FILE_SPECS[kind]
    iterator = iter(rows)
    head = list(itertools.islice(iterator, HEADER_SCAN_ROWS))
    if not any(not cells.is_blank(cell) for row in head for cell in row):
        if next(iterator, None) is None:
            raise ImportFileError(
                _("Berkas kosong: tidak ada baris yang dapat dibaca. Unggah berkas .xlsx atau .csv yang berisi data."),
                "file_empty",
            )
        raise _no_header(kind)
    header_index = find_header(head)
    if header_index is None:
        raise _no_header(kind)
    header_cells = head[header_index]
    header_row = header_index + 1
    columns, unmatched, raw_keys = match_columns(header_cells, spec)
    check_kind(kind, [c.header for c in columns], header_row)
    body: Iterable[list[Cell]] = itertools.chain(head[header_index + 1 :], iterator)
    first_row_number = header_row + 1
    following = head[header_index + 1] if header_index + 1 < len(head) else None
    if following is not None and _is_column_number_row(following, len(columns)):
        body = itertools.chain(head[header_index + 2 :], iterator)
        first_row_number += 1
    parse_row = compile_row_parser(_plan(columns, spec), _raw_builder(raw_keys, text_cells))
    rows_iter = _parse_rows(body, first_row_number, parse_row)
    return ParsedFile(kind=kind, header_row=header_row, columns=columns, unmatched=unmatched, rows=rows_iter)


def parse_file(path: Path, kind: FileKind) -> ParsedFile:
    """Open ``path`` (``reader.open_rows``), find and check its header; ``rows`` then parse lazily."""
    path = Path(path)
    return parse_rows(open_rows(path), kind, text_cells=sniff_format(path) == "csv")
