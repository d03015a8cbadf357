"""Header detection, aliases, raw rows, file-kind checks, the fixture files end to end, and generated rows."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from households.importing import mapping
from households.importing.mapping import FILE_SPECS, normalize_header, parse_file, parse_rows
from households.importing.types import ImportFileError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _fixture_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_import_fixtures", FIXTURES / "build_import_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


FIX = _fixture_module()

PERSON_HEADER = ["ID Keluarga P3KE", "ID Individu", "Nama", "NIK", "Jenis Kelamin", "Tanggal Lahir"]
PERSON_ROW = ["P3KE-1", "P3KE-1-01", "ANI", "3324015501900001", "P", "15-01-1990"]


def _rows(parsed: mapping.ParsedFile) -> list[Any]:
    return list(parsed.rows)


# ----------------------------------------------------------------------------------------------------------
# Headers and aliases


@pytest.mark.parametrize(
    "text",
    [
        "Desil Kesejahteraan",
        "DESIL_KESEJAHTERAAN",
        "desil-kesejahteraan",
        "  desil   kesejahteraan\n",
        "Desil.Kesejahteraan",
    ],
)
def test_normalize_header(text: str) -> None:
    assert normalize_header(text) == "desilkesejahteraan"


@pytest.mark.parametrize("kind", sorted(FILE_SPECS))
def test_every_alias_matches_in_every_spelling(kind: str) -> None:
    spec = FILE_SPECS[kind]
    for field in spec.fields:
        for alias in field.aliases:
            for variant in (alias, alias.upper(), alias.lower(), alias.replace(" ", "_"), f" {alias.title()} "):
                assert spec.by_alias[normalize_header(variant)] is field, (kind, variant)


def test_brief_alias_examples() -> None:
    family = FILE_SPECS["family"].by_alias
    expect = {
        "ID Keluarga P3KE": "id_keluarga",
        "Kode Kemendagri": "region_code",
        "Kode Wilayah": "region_code",
        "KODE_DESA": "region_code",
        "Desil Kesejahteraan": "desil",
        "DESIL": "desil",
        "desil_kesejahteraan": "desil",
        "Peringkat Kesejahteraan": "persentil",
        "Persentil": "persentil",
        "Nama Kepala Keluarga": "head_name",
        "Kepala Keluarga": "head_name",
        "Nama": "head_name",
        "NIK": "head_nik",
        "NIK Kepala Keluarga": "head_nik",
        "Bahan Bakar Utama Memasak": "cooking_fuel",
        "Memiliki Fasilitas BAB": "toilet_facility",
        "Risiko Stunting": "stunting_risk",
        "Resiko Stunting": "stunting_risk",
        "Simpanan": "has_savings",
        "Memiliki Simpanan/Tabungan": "has_savings",
        "Penerima KUR": "receives_kur",
        "Prioritas Verval": "verification_priority",
    }
    for header, field in expect.items():
        assert family[normalize_header(header)].name == field, header
    dtks = FILE_SPECS["dtks"].by_alias
    for header, field in {
        "IDDTKS": "id_dtks",
        "NOKK": "no_kk",
        "No KK": "no_kk",
        "Nomor KK": "no_kk",
        "TGL_LAHIR": "birth_date",
        "NAMA_IBU_KANDUNG": "mother_name",
        "HUBUNGAN_KELUARGA": "relationship",
        "KELURAHAN": "desa_name",
        "KODE_WILAYAH": "region_code",
    }.items():
        assert dtks[normalize_header(header)].name == field, header
    dtsen = FILE_SPECS["dtsen"].by_alias
    assert dtsen[normalize_header("ID Keluarga DTSEN")].name == "id_dtsen_keluarga"
    assert dtsen[normalize_header("ID Individu DTSEN")].name == "id_dtsen_individu"
    assert dtsen[normalize_header("Desil Nasional")].name == "desil"
    assert dtsen[normalize_header("Desil")].name == "desil"


def test_contract_value_keys() -> None:
    keys = {kind: {key for f in spec.fields for key in f.keys} for kind, spec in FILE_SPECS.items()}
    assert keys["person"] == {
        "id_keluarga", "id_individu", "name", "nik", "nik_status", "nik_note", "sex", "relationship", "birth_date",
        "marital_status", "occupation", "work_status", "education", "disability",
    }  # fmt: skip
    assert keys["dtsen"] == {
        "id_dtsen_keluarga", "id_dtsen_individu", "no_kk", "nik", "nik_status", "nik_note", "name", "relationship",
        "sex", "birth_date", "region_code", "address", "desil",
    }  # fmt: skip
    assert keys["dtks"] == {
        "id_dtks", "no_kk", "nik", "nik_status", "nik_note", "name", "address", "dusun", "rt", "rw", "birth_place",
        "birth_date", "sex", "mother_name", "relationship", "region_code", "province_name", "kabupaten_name",
        "kecamatan_name", "desa_name",
    }  # fmt: skip
    household = {
        "house_ownership", "roof_type", "roof_quality", "wall_type", "wall_quality", "floor_type", "floor_quality",
        "lighting_source", "power_capacity", "cooking_fuel", "water_source", "toilet_facility", "stunting_risk",
        "has_savings", "has_land", "has_vehicle", "receives_bpnt", "receives_bpum", "receives_bst", "receives_pkh",
        "receives_sembako", "receives_prakerja", "receives_kur", "verification_priority", "extreme_poverty",
    }  # fmt: skip
    assert keys["family"] == household | {
        "id_keluarga", "region_code", "province_name", "kabupaten_name", "kecamatan_name", "desa_name", "address",
        "dusun", "rt", "rw", "desil", "persentil", "head_name", "head_nik", "head_nik_status", "head_nik_note",
        "head_sex", "head_birth_date", "head_occupation", "head_education", "no_kk",
    }  # fmt: skip
    assert {f.name for f in FILE_SPECS["family"].required} == {"id_keluarga", "region_code", "head_name"}
    assert {f.name for f in FILE_SPECS["person"].required} == {"id_keluarga", "id_individu", "name"}
    assert {f.name for f in FILE_SPECS["dtks"].required} == {"id_dtks", "name"}
    assert {f.name for f in FILE_SPECS["dtsen"].required} == {"id_dtsen_keluarga", "name"}


def test_header_after_a_twelve_row_title_block() -> None:
    title: list[list[Any]] = [["DATA P3KE"], [], ["Provinsi", ": JAWA TENGAH"], ["Kabupaten/Kota", ": KENDAL"]]
    title += [[f"baris judul {i}"] for i in range(8)]
    parsed = parse_rows([*title, PERSON_HEADER, PERSON_ROW], "person")
    assert parsed.header_row == 13
    (row,) = _rows(parsed)
    assert row.row_number == 14
    assert row.values["name"] == "ANI"


def test_header_variants_older_export() -> None:
    header = ["IDKELUARGA", "ID_INDIVIDU_P3KE", "NAMA", "NIK", "JK", "TGL_LAHIR", "SHDK", "STATUS_KAWIN"]
    parsed = parse_rows([header, ["K1", "K1-1", "BUDI", "", "1", "1980-01-12", "KEPALA KELUARGA", "KAWIN"]], "person")
    assert [c.field for c in parsed.columns] == [
        "id_keluarga", "id_individu", "name", "nik", "sex", "birth_date", "relationship", "marital_status",
    ]  # fmt: skip
    (row,) = _rows(parsed)
    assert row.values["sex"] == "L" and row.values["relationship"] == "KEPALA_KELUARGA"


def test_header_not_found() -> None:
    with pytest.raises(ImportFileError) as error:
        parse_rows([["laporan"], ["a", "b", "c"], ["1", "2", "3"]], "family")
    assert error.value.code == "file_no_header"
    assert error.value.message == (
        "Baris judul kolom tidak ditemukan pada 40 baris pertama. Pastikan berkas adalah berkas keluarga P3KE "
        "dengan judul kolom seperti “ID Keluarga P3KE”, “Kode Kemendagri”, “Nama Kepala Keluarga”."
    )


def test_header_below_row_40_is_not_found() -> None:
    rows: list[list[Any]] = [[f"catatan {i}"] for i in range(40)] + [PERSON_HEADER, PERSON_ROW]
    with pytest.raises(ImportFileError) as error:
        parse_rows(rows, "person")
    assert error.value.code == "file_no_header"


def test_only_blank_rows_is_empty() -> None:
    with pytest.raises(ImportFileError) as error:
        parse_rows([[], ["", ""], []], "person")
    assert error.value.code == "file_empty"


def test_missing_required_columns() -> None:
    with pytest.raises(ImportFileError) as error:
        parse_rows([["ID Keluarga P3KE", "Nama", "NIK", "Jenis Kelamin"], ["K1", "ANI", "", "P"]], "person")
    assert error.value.code == "file_missing_columns"
    assert error.value.message == (
        "Kolom wajib tidak ditemukan pada baris judul kolom (baris 1): “ID Individu”. Periksa nama kolom atau "
        "pastikan berkas ini adalah berkas individu P3KE."
    )


@pytest.mark.parametrize(
    ("file", "given", "found"),
    [
        ("p3ke_keluarga_judul.xlsx", "person", "berkas keluarga P3KE"),
        ("p3ke_individu_lama.xlsx", "family", "berkas individu P3KE"),
        ("p3ke_individu_cp1252.csv", "dtsen", "berkas individu P3KE"),
        ("dtks.xlsx", "family", "berkas DTKS"),
        ("dtks.xlsx", "dtsen", "berkas DTKS"),
        ("dtsen.csv", "dtks", "berkas DTSEN"),
        ("p3ke_keluarga_bom.csv", "dtks", "berkas keluarga P3KE"),
    ],
)
def test_wrong_kind_is_refused(file: str, given: str, found: str) -> None:
    labels = {"family": "berkas keluarga P3KE", "person": "berkas individu P3KE", "dtks": "berkas DTKS"}
    labels["dtsen"] = "berkas DTSEN"
    with pytest.raises(ImportFileError) as error:
        parse_file(FIXTURES / file, given)  # type: ignore[arg-type]
    assert error.value.code == "file_wrong_kind"
    assert error.value.message == (
        f"Berkas ini tampak seperti {found}, bukan {labels[given]}. Periksa kembali berkas yang diunggah atau pilih "
        "jenis berkas yang sesuai."
    )


def test_person_file_with_region_columns_is_still_not_a_family_file() -> None:
    header = [*PERSON_HEADER, "Hubungan dengan Kepala Keluarga", "Status Kawin", "Status Pekerjaan", "Pendidikan"]
    header += ["Provinsi", "Kabupaten/Kota", "Kecamatan", "Desa/Kelurahan", "Kode Kemendagri"]
    with pytest.raises(ImportFileError) as error:
        parse_rows([header], "family")
    assert error.value.code == "file_wrong_kind"
    assert parse_rows([header], "person").header_row == 1


def test_minimal_family_file_is_accepted() -> None:
    parsed = parse_rows([["ID Keluarga P3KE", "Kode Kemendagri", "Nama"], ["K1", "3324012001", "ANI"]], "family")
    (row,) = _rows(parsed)
    assert row.values == {"id_keluarga": "K1", "region_code": "3324012001", "head_name": "ANI"}


# ----------------------------------------------------------------------------------------------------------
# Rows, raw


def test_unknown_columns_are_kept_in_raw() -> None:
    header = [*PERSON_HEADER, "Padan Dukcapil", "Catatan Petugas"]
    parsed = parse_rows([header, [*PERSON_ROW, "YA", "rumah kosong"]], "person")
    assert parsed.unmatched == ["Padan Dukcapil", "Catatan Petugas"]
    (row,) = _rows(parsed)
    assert row.raw["Catatan Petugas"] == "rumah kosong"
    assert row.raw["Padan Dukcapil"] == "YA"
    assert row.raw["Nama"] == "ANI"
    assert "Catatan Petugas" not in row.values


def test_raw_text_forms_and_unheaded_cells() -> None:
    header: list[Any] = [*PERSON_HEADER, "", "NIK"]
    row_in: list[Any] = ["P3KE-1", "P3KE-1-01", "ANI", 3324015501900001, 1, dt.date(1990, 1, 15), "lihat", "dup", "x"]
    (row,) = _rows(parse_rows([header, row_in], "person"))
    assert row.raw == {
        "ID Keluarga P3KE": "P3KE-1",
        "ID Individu": "P3KE-1-01",
        "Nama": "ANI",
        "NIK": "3324015501900001",
        "Jenis Kelamin": "1",
        "Tanggal Lahir": "1990-01-15",
        "Kolom G": "lihat",
        "NIK (H)": "dup",
        "Kolom I": "x",
    }
    assert row.values["nik_status"] == "needs_verification"  # the first NIK column is the one used


def test_short_rows_are_padded_and_blank_rows_skipped() -> None:
    parsed = parse_rows([PERSON_HEADER, ["P3KE-1", "P3KE-1-01", "ANI"], [], ["", "", ""], PERSON_ROW], "person")
    rows = _rows(parsed)
    assert [r.row_number for r in rows] == [2, 5]
    assert rows[0].raw["Tanggal Lahir"] == ""
    assert rows[0].values["birth_date"] is None
    assert {i.code for i in rows[0].issues} == {"nik_empty"}


def test_column_number_row_under_the_header_is_skipped() -> None:
    numbers = ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)"]
    rows = _rows(parse_rows([PERSON_HEADER, numbers, PERSON_ROW], "person"))
    assert [r.row_number for r in rows] == [3]
    rows = _rows(parse_rows([PERSON_HEADER, [1, 2, 3, 4, 5, 6], PERSON_ROW], "person"))
    assert [r.row_number for r in rows] == [3]
    # Numbers that are not 1, 2, 3, ... are data (rejected here, but counted).
    rows = _rows(parse_rows([PERSON_HEADER, [11, 12, 13, 14, 15, 16], PERSON_ROW], "person"))
    assert [r.row_number for r in rows] == [2, 3]


def test_required_values() -> None:
    (row,) = _rows(parse_rows([PERSON_HEADER, ["P3KE-1", " ", "-", "", "", ""]], "person"))
    assert row.rejected
    required = [i for i in row.issues if i.code == "required"]
    assert [(i.column, i.message) for i in required] == [
        ("ID Individu", "Kolom “ID Individu” wajib diisi."),
        ("Nama", "Kolom “Nama” wajib diisi."),
    ]


def test_memoized_columns_give_the_same_results() -> None:
    header = ["ID Keluarga P3KE", "ID Individu", "Nama", "Jenis Kelamin", "Hubungan"]
    body = [[f"K{i}", f"K{i}-1", "ANI", "X" if i % 2 else "P", "ISTRI"] for i in range(10)]
    rows = _rows(parse_rows([header, *body], "person"))
    assert [r.values["sex"] for r in rows] == [None if i % 2 else "P" for i in range(10)]
    assert all(r.issues[0].code == "code_unknown" for r in rows[1::2])
    assert [r.row_number for r in rows[1::2]] == [3, 5, 7, 9, 11]


# ----------------------------------------------------------------------------------------------------------
# Fixture files end to end


@pytest.mark.parametrize(
    ("name", "kind", "header_row", "expected"),
    [
        ("p3ke_keluarga_judul.xlsx", "family", 13, FIX.FAMILY_EXPECTED),
        ("p3ke_keluarga_bom.csv", "family", 1, {n - 12: codes for n, codes in FIX.FAMILY_EXPECTED.items()}),
        ("p3ke_individu_lama.xlsx", "person", 1, FIX.PERSON_OLD_EXPECTED),
        ("p3ke_individu_cp1252.csv", "person", 1, FIX.PERSON_CP1252_EXPECTED),
        ("dtks.xlsx", "dtks", 1, FIX.DTKS_EXPECTED),
        ("dtks_ttl.csv", "dtks", 1, FIX.DTKS_TTL_EXPECTED),
        ("dtsen.csv", "dtsen", 1, FIX.DTSEN_EXPECTED),
    ],
)
def test_fixture_issues(name: str, kind: str, header_row: int, expected: dict[int, set[str]]) -> None:
    parsed = parse_file(FIXTURES / name, kind)  # type: ignore[arg-type]
    assert parsed.header_row == header_row
    rows = list(parsed.rows)
    assert {r.row_number: {i.code for i in r.issues} for r in rows} == expected


def test_family_fixture_values_xlsx_and_csv_agree() -> None:
    xlsx = list(parse_file(FIXTURES / "p3ke_keluarga_judul.xlsx", "family").rows)
    csv = list(parse_file(FIXTURES / "p3ke_keluarga_bom.csv", "family").rows)
    assert [r.values for r in xlsx] == [r.values for r in csv]
    clean, messy = xlsx[0].values, xlsx[1].values
    assert clean["region_code"] == "3324012001" and clean["desil"] == 1 and clean["persentil"] == 5
    assert clean["head_birth_date"] == dt.date(1980, 1, 12)
    assert clean["house_ownership"] == "MILIK_SENDIRI" and clean["lighting_source"] == "PLN_METERAN"
    assert clean["power_capacity"] == "900" and clean["cooking_fuel"] == "ELPIJI_3KG"
    assert clean["water_source"] == "SUMUR_BOR" and clean["toilet_facility"] == "SENDIRI"
    assert clean["receives_bpnt"] is True and clean["stunting_risk"] is False
    assert messy["head_name"] == "siti aminah" and messy["region_code"] == "3324012002"
    assert messy["head_nik"] == "3324015501900001" and messy["head_nik_status"] == "valid"
    assert messy["desil"] == 2 and messy["persentil"] == 12 and messy["head_education"] == "SMA"
    for key in ("house_ownership", "roof_type", "roof_quality", "wall_type", "floor_type", "power_capacity"):
        assert messy[key] == clean[key], key
    assert xlsx[2].values["head_birth_date"] == dt.date(1990, 1, 1)  # Excel serial number


def test_family_fixture_raw_keeps_the_unknown_column() -> None:
    rows = list(parse_file(FIXTURES / "p3ke_keluarga_judul.xlsx", "family").rows)
    assert rows[-1].raw["Keterangan"] == "PINDAH KE DESA LAIN"
    assert rows[2].raw["NIK"] == "3324011201800002"
    assert rows[0].raw["Tanggal Lahir"] == "1980-01-12"


def test_cp1252_names() -> None:
    rows = list(parse_file(FIXTURES / "p3ke_individu_cp1252.csv", "person").rows)
    assert rows[0].values["name"] == "JOSÉ MUÑOZ"


def test_synthetic_messy_files_report_what_was_injected(tmp_path: Path) -> None:
    from households.importing.synthetic import p3ke_files_write

    files = p3ke_files_write(directory=tmp_path, families=40, messy=True, title_block=True)
    assert files.expected is not None
    pure_codes = {"nik_excel_number", "desil_range", "required", "date_invalid"}
    injected = {(r.kind, r.row_number, r.code) for r in files.expected.rows if r.code in pure_codes}
    for kind in ("family", "person"):
        for fmt in ("xlsx", "csv"):
            parsed = parse_file(getattr(files, kind)[fmt], kind)  # type: ignore[arg-type]
            assert parsed.header_row == files.header_row
            rows = list(parsed.rows)
            assert len(rows) == (files.families if kind == "family" else files.persons)
            found = {(kind, r.row_number, i.code) for r in rows for i in r.issues if i.code != "nik_empty"}
            assert found == {x for x in injected if x[0] == kind}, (kind, fmt)
            blank = files.blank_nik_families if kind == "family" else files.blank_nik_persons
            assert sum(1 for r in rows for i in r.issues if i.code == "nik_empty") == blank


# ----------------------------------------------------------------------------------------------------------
# Generated rows: every row is either accepted or rejected with a reason

JUNK = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.integers(-5, 10**17),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)
GOOD = {
    "id": st.from_regex(r"P3KE-[0-9]{1,6}", fullmatch=True),
    "text": st.sampled_from(["ANI", "BUDI SANTOSO", " siti  aminah ", "-", ""]),
    "nik": st.sampled_from(["3324015501900001", "'3324011201800001", "3.32402E+15", "", "123"]),
    "date": st.sampled_from(["15-01-1990", dt.date(1980, 1, 12), "30-02-1985", 32874, ""]),
    "desil": st.sampled_from([1, "2", "DESIL 3", 11, "x", ""]),
    "region": st.sampled_from(["3324012001", "33.24.01.2001", "3324", ""]),
}


def _column_strategy(field: mapping.FieldSpec) -> st.SearchStrategy[Any]:
    parse = field.parser
    good = {
        mapping.cells.parse_id: GOOD["id"],
        mapping.cells.parse_nik: GOOD["nik"],
        mapping.cells.parse_date: GOOD["date"],
        mapping.cells.parse_desil: GOOD["desil"],
        mapping.cells.parse_region_code: GOOD["region"],
    }.get(parse, GOOD["text"])
    return st.one_of(good, good, JUNK)


@pytest.mark.parametrize("kind", sorted(FILE_SPECS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_rows_are_accepted_or_rejected_with_a_reason(kind: str, data: st.DataObject) -> None:
    spec = FILE_SPECS[kind]
    fields = [f for f in spec.fields if f.name != "birth_place_date"]
    header = [f.aliases[0] for f in fields] + ["Kolom Lain"]
    body = data.draw(
        st.lists(st.tuples(*[_column_strategy(f) for f in fields], JUNK).map(list), min_size=1, max_size=15)
    )
    parsed = parse_rows([header, *body], kind)  # type: ignore[arg-type]
    rows = list(parsed.rows)
    non_blank = sum(1 for row in body if any(c not in ("", None) for c in row))
    accepted = sum(1 for r in rows if not r.rejected)
    rejected = sum(1 for r in rows if r.rejected)
    assert accepted + rejected == len(rows) == non_blank
    keys = {key for f in fields for key in f.keys}
    for row in rows:
        assert set(row.values) == keys
        if row.rejected:
            errors = [i for i in row.issues if i.severity == "error"]
            assert errors and all(i.message and i.column in header for i in errors)
        for field in spec.required:
            if row.values[field.name] is None:
                assert row.rejected
        assert set(row.raw) <= {*header, *(f"Kolom {c}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


def test_trailing_blank_header_cells_and_cells_beyond_the_header() -> None:
    header: list[Any] = [*PERSON_HEADER, "", ""]
    rows = _rows(parse_rows([header, [*PERSON_ROW, "", "", ""], [*PERSON_ROW, "", 0, "", "z"]], "person"))
    assert rows[0].raw == dict(zip(PERSON_HEADER, PERSON_ROW, strict=True))
    assert rows[1].raw == {**dict(zip(PERSON_HEADER, PERSON_ROW, strict=True)), "Kolom H": "0", "Kolom J": "z"}
