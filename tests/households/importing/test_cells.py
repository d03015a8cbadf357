"""Pure cell parsers: every cleaning rule with its exact Indonesian message, and hypothesis on every parser."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from households import choices
from households.importing import cells
from households.importing.types import CellIssue
from tkpk.identifiers import check_nik

COL = "Kolom Uji"


def ok(result: tuple[object, CellIssue | None]) -> object:
    value, issue = result
    assert issue is None, issue
    return value


def problem(result: tuple[object, CellIssue | None]) -> CellIssue:
    _value, issue = result
    assert issue is not None
    return issue


# ----------------------------------------------------------------------------------------------------------
# Text


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (None, ""),
        ("", ""),
        ("abc", "abc"),
        (True, "TRUE"),
        (12, "12"),
        (2.0, "2"),
        (2.5, "2.5"),
        (3324015501900001.0, "3324015501900001.0"),
        (dt.date(1990, 1, 15), "1990-01-15"),
        (dt.datetime(1990, 1, 15), "1990-01-15"),
        (dt.datetime(1990, 1, 15, 10, 30), "1990-01-15 10:30:00"),
        (dt.time(10, 30), "10:30:00"),
    ],
)
def test_cell_text(cell: cells.Cell, expected: str) -> None:
    assert cells.cell_text(cell) == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("  siti   aminah ", "siti aminah"), ("BUDI\tSANTOSO", "BUDI SANTOSO"), ("-", None), ("  ", None), (None, None)],
)
def test_parse_text_trims_and_collapses_spaces(cell: cells.Cell, expected: str | None) -> None:
    assert ok(cells.parse_text(cell, COL)) == expected


def test_parse_text_numbers_become_text() -> None:
    assert ok(cells.parse_text(12, COL)) == "12"
    assert ok(cells.parse_text(1.0, COL)) == "1"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("'P3KE-0001", "P3KE-0001"), (" P3KE-0001 ", "P3KE-0001"), (123456, "123456"), (7.0, "7"), ("", None)],
)
def test_parse_id(cell: cells.Cell, expected: str | None) -> None:
    assert ok(cells.parse_id(cell, COL)) == expected


def test_required_message() -> None:
    issue = cells.required_issue("Nama Kepala Keluarga", "")
    assert (issue.code, issue.severity, issue.column) == ("required", "error", "Nama Kepala Keluarga")
    assert issue.message == "Kolom “Nama Kepala Keluarga” wajib diisi."


# ----------------------------------------------------------------------------------------------------------
# NIK / No KK


@pytest.mark.parametrize(
    "cell",
    ["3324015501900001", "'3324015501900001", " 3324015501900001 ", "3324 0155 0190 0001", "33.24.01.550190.0001"],
)
def test_nik_text_is_cleaned_and_valid(cell: str) -> None:
    assert ok(cells.parse_nik(cell, "NIK")) == ("3324015501900001", "valid", "")


@pytest.mark.parametrize("cell", ["", "  ", None, "-"])
def test_nik_blank_is_missing_with_warning(cell: cells.Cell) -> None:
    value, issue = cells.parse_nik(cell, "NIK")
    assert value == (None, "missing", "")
    assert issue is not None
    assert (issue.code, issue.severity, issue.message) == ("nik_empty", "warning", "NIK kosong.")


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        (3324015501900001, "3324015501900001"),
        (3324015501900000.0, "3324015501900000.0"),
        ("3.324015501900001E+15", "3.324015501900001E+15"),
        ("3,32402E+15", "3,32402E+15"),
        ("3.32402e15", "3.32402e15"),
        ("3324015501900001.0", "3324015501900001.0"),
        ("'3.32402E+15", "'3.32402E+15"),
    ],
)
def test_nik_as_number_is_never_stored(cell: cells.Cell, shown: str) -> None:
    value, issue = cells.parse_nik(cell, "NIK")
    assert value == (None, "needs_verification", "NIK tersimpan sebagai angka Excel; perlu verifikasi")
    assert issue is not None
    assert (issue.code, issue.severity, issue.value, issue.column) == ("nik_excel_number", "warning", shown, "NIK")
    assert issue.message == (
        f"NIK “{shown}” tersimpan sebagai angka Excel: digit terakhir bisa hilang, jadi NIK tidak disimpan dan perlu "
        "verifikasi. Simpan kolom NIK sebagai teks."
    )


@pytest.mark.parametrize(
    ("cell", "code", "reason"),
    [
        ("1234", "nik_format", "NIK harus terdiri dari 16 digit angka."),
        ("33240155019000011", "nik_format", "NIK harus terdiri dari 16 digit angka."),
        ("3324015501900000", "nik_serial", "Nomor urut NIK tidak boleh 0000."),
        ("9924015501900001", "nik_province", 'Kode provinsi "99" tidak dikenal.'),
        ("3300015501900001", "nik_wilayah", "Kode kabupaten/kota dan kecamatan tidak boleh 00."),
        ("3324019913900001", "nik_birth_date", "Tanggal lahir di NIK tidak valid."),
        ("NIK-ABC", "nik_format", "NIK harus terdiri dari 16 digit angka."),
    ],
)
def test_nik_invalid_structure_is_a_warning_with_the_reason(cell: str, code: str, reason: str) -> None:
    value, issue = cells.parse_nik(cell, "NIK")
    assert value == (None, "invalid", reason)
    assert issue is not None
    assert (issue.code, issue.severity) == (code, "warning")
    assert issue.message == f"NIK “{cell}” tidak sah: {reason}"


def test_nik_of_a_woman_has_day_plus_40() -> None:
    assert ok(cells.parse_nik("3324015501900001", "NIK"))[0] == "3324015501900001"  # type: ignore[index]
    assert cells.parse_nik("3324017201900001", "NIK")[0][1] == "invalid"  # day 72-40 = 32


@given(
    st.builds(
        lambda p, kk, cc, d, m, y, s: f"{p}{kk:02d}{cc:02d}{d:02d}{m:02d}{y:02d}{s:04d}",
        st.sampled_from(["11", "33", "64", "99", "00", "91", "96"]),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 9999),
    )
)
def test_fast_nik_check_agrees_with_check_nik(digits: str) -> None:
    # The fast path may only accept what tkpk.identifiers.check_nik accepts (and it accepts all of those).
    assert cells._plain_nik_valid(digits) == check_nik(digits).valid


def test_no_kk() -> None:
    assert ok(cells.parse_no_kk("'3324011201200003", "No KK")) == "3324011201200003"
    assert ok(cells.parse_no_kk("", "No KK")) is None
    value, issue = cells.parse_no_kk(3324011201200003, "No KK")
    assert value is None and issue is not None
    assert (issue.code, issue.severity) == ("kk_excel_number", "warning")
    assert issue.message == (
        "Nomor KK “3324011201200003” tersimpan sebagai angka Excel: digit terakhir bisa hilang, jadi Nomor KK tidak "
        "disimpan. Simpan kolom Nomor KK sebagai teks."
    )
    issue = problem(cells.parse_no_kk("123", "No KK"))
    assert (issue.code, issue.severity) == ("kk_format", "warning")
    assert issue.message == "Nomor KK “123” tidak sah: Nomor KK harus terdiri dari 16 digit angka."


# ----------------------------------------------------------------------------------------------------------
# Region code, RT/RW


@pytest.mark.parametrize(
    "cell", ["33.24.01.2001", "3324012001", " 33.24.01.2001 ", "'3324012001", 3324012001, 3324012001.0, "3324 01 2001"]
)
def test_region_code_forms(cell: cells.Cell) -> None:
    assert ok(cells.parse_region_code(cell, "Kode Kemendagri")) == "3324012001"


def test_region_code_blank_is_none() -> None:
    assert cells.parse_region_code("", "Kode Kemendagri") == (None, None)


@pytest.mark.parametrize("cell", ["3324", "33.24.01", 3324])
def test_region_code_must_be_a_desa(cell: cells.Cell) -> None:
    issue = problem(cells.parse_region_code(cell, "Kode Kemendagri"))
    assert (issue.code, issue.severity) == ("region_not_desa", "error")
    assert issue.message == (
        f"Kode wilayah “{cells.cell_text(cell)}” bukan kode desa/kelurahan: harus 10 digit (mis. 33.24.01.2001 atau "
        "3324012001)."
    )


@pytest.mark.parametrize("cell", ["33-24", "KENDAL", "33.24.1.2001", 3324012001.5])
def test_region_code_malformed(cell: cells.Cell) -> None:
    issue = problem(cells.parse_region_code(cell, "Kode Kemendagri"))
    assert (issue.code, issue.severity) == ("region_format", "error")
    shown = "".join(cells.cell_text(cell).split())
    assert issue.message == (
        f"Kode wilayah “{shown}” tidak sah: gunakan kode Kemendagri 2, 4, 6 atau 10 digit (mis. 33.24.01.2001 atau "
        "3324012001)."
    )


@pytest.mark.parametrize(
    ("cell", "expected"),
    [(1, "001"), ("01", "001"), ("RT 001", "001"), ("RT.05", "005"), ("1.0", "001"), (12.0, "012")],
)
def test_rt_rw(cell: cells.Cell, expected: str) -> None:
    assert ok(cells.parse_rt_rw(cell, "RT")) == expected


@pytest.mark.parametrize("cell", ["1234", "A", -1, 1.5])
def test_rt_rw_other_text_is_blanked_with_warning(cell: cells.Cell) -> None:
    value, issue = cells.parse_rt_rw(cell, "RT")
    assert value is None and issue is not None
    assert (issue.code, issue.severity) == ("rt_rw_format", "warning")
    assert issue.message == f"RT/RW “{cells.cell_text(cell)}” bukan angka 1–3 digit; kolom dikosongkan."


# ----------------------------------------------------------------------------------------------------------
# Desil, persentil


@pytest.mark.parametrize(
    ("cell", "expected"),
    [(1, 1), (1.0, 1), ("1", 1), ("1.0", 1), ("1,0", 1), ("DESIL 1", 1), ("Desil 10", 10), (" 3 ", 3), ("desil: 4", 4)],
)
def test_desil_forms(cell: cells.Cell, expected: int) -> None:
    assert ok(cells.parse_desil(cell, "Desil Kesejahteraan")) == expected


@pytest.mark.parametrize("cell", [0, 11, "11", "DESIL 0", -1, 100])
def test_desil_out_of_range(cell: cells.Cell) -> None:
    issue = problem(cells.parse_desil(cell, "Desil Kesejahteraan"))
    assert (issue.code, issue.severity) == ("desil_range", "error")
    assert issue.message == f"Desil “{cells.cell_text(cell)}” di luar rentang 1–10."


@pytest.mark.parametrize("cell", ["abc", 1.5, "1.5", True, dt.date(2020, 1, 1), "DESIL SATU"])
def test_desil_not_a_whole_number(cell: cells.Cell) -> None:
    issue = problem(cells.parse_desil(cell, "Desil Kesejahteraan"))
    assert (issue.code, issue.severity) == ("desil_format", "error")
    assert issue.message == f"Desil “{cells.cell_text(cell)}” bukan angka bulat 1–10."


def test_desil_blank_is_none() -> None:
    assert cells.parse_desil("", "Desil") == (None, None)
    assert cells.parse_desil(None, "Desil") == (None, None)


def test_persentil() -> None:
    assert ok(cells.parse_persentil("PERSENTIL 5", "Persentil")) == 5
    assert ok(cells.parse_persentil(100, "Persentil")) == 100
    assert ok(cells.parse_persentil("12.0", "Persentil")) == 12
    issue = problem(cells.parse_persentil(101, "Persentil"))
    assert (issue.code, issue.message) == ("persentil_range", "Persentil “101” di luar rentang 1–100.")
    issue = problem(cells.parse_persentil("x", "Persentil"))
    assert (issue.code, issue.message) == ("persentil_format", "Persentil “x” bukan angka bulat 1–100.")


# ----------------------------------------------------------------------------------------------------------
# Dates


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (dt.date(1990, 1, 15), dt.date(1990, 1, 15)),
        (dt.datetime(1990, 1, 15, 0, 0), dt.date(1990, 1, 15)),
        (32874, dt.date(1990, 1, 1)),
        (32874.75, dt.date(1990, 1, 1)),
        ("32874", dt.date(1990, 1, 1)),
        ("15-01-1990", dt.date(1990, 1, 15)),
        ("15/01/1990", dt.date(1990, 1, 15)),
        ("15.01.1990", dt.date(1990, 1, 15)),
        ("1990-01-15", dt.date(1990, 1, 15)),
        ("1990/01/15", dt.date(1990, 1, 15)),
        ("5-1-1990", dt.date(1990, 1, 5)),
        ("15-01-90", dt.date(1990, 1, 15)),
        ("01-07-40", dt.date(1940, 7, 1)),
        ("01-07-20", dt.date(2020, 7, 1)),
        ("15 Januari 1990", dt.date(1990, 1, 15)),
        ("15 JANUARI 1990", dt.date(1990, 1, 15)),
        ("1 Agustus 1945", dt.date(1945, 8, 1)),
        ("17 Agt 1945", dt.date(1945, 8, 17)),
        ("15-Jan-1990", dt.date(1990, 1, 15)),
        ("3 Mei 2001", dt.date(2001, 5, 3)),
        ("31 Desember 1999", dt.date(1999, 12, 31)),
        ("19900115", dt.date(1990, 1, 15)),
        ("1990-01-15 00:00:00", dt.date(1990, 1, 15)),
        ("1990-01-15T00:00:00", dt.date(1990, 1, 15)),
        ("15/01/1990 00:00:00", dt.date(1990, 1, 15)),
        (" 15-01-1990 ", dt.date(1990, 1, 15)),
    ],
)
def test_date_forms(cell: cells.Cell, expected: dt.date) -> None:
    assert ok(cells.parse_date(cell, "Tanggal Lahir")) == expected


@pytest.mark.parametrize(
    "cell", ["30-02-1985", "kemarin", "1990", 1990, "01/15/1990", "15 Foo 1990", "15-01", True, "2001-02-30", 0]
)
def test_date_invalid(cell: cells.Cell) -> None:
    issue = problem(cells.parse_date(cell, "Tanggal Lahir"))
    assert (issue.code, issue.severity, issue.column) == ("date_invalid", "error", "Tanggal Lahir")
    assert issue.message == (
        f"Tanggal “{cells.cell_text(cell)}” tidak valid atau tidak dikenali; "
        "gunakan format hh-bb-tttt, mis. 15-01-1990."
    )


def test_date_out_of_range() -> None:
    issue = problem(cells.parse_date("1800-01-01", "Tanggal Lahir"))
    assert (issue.code, issue.message) == ("date_range", "Tanggal “1800-01-01” di luar rentang tahun 1900–2100.")


def test_date_blank() -> None:
    assert cells.parse_date("", "Tanggal Lahir") == (None, None)
    assert cells.parse_date(None, "Tanggal Lahir") == (None, None)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("KENDAL, 15-01-1990", ("KENDAL", dt.date(1990, 1, 15))),
        ("KENDAL 15 Januari 1990", ("KENDAL", dt.date(1990, 1, 15))),
        ("KOTA SEMARANG 15-01-1990", ("KOTA SEMARANG", dt.date(1990, 1, 15))),
        (dt.date(1990, 1, 15), (None, dt.date(1990, 1, 15))),
        ("", (None, None)),
    ],
)
def test_birth_place_date(cell: cells.Cell, expected: tuple[str | None, dt.date | None]) -> None:
    assert ok(cells.parse_birth_place_date(cell, "Tempat/Tanggal Lahir")) == expected


def test_birth_place_date_without_a_date() -> None:
    value, issue = cells.parse_birth_place_date("KENDAL", "TTL")
    assert value == ("KENDAL", None)
    assert issue is not None and issue.code == "date_invalid"
    assert issue.message == "Tanggal lahir tidak ditemukan pada “KENDAL”; gunakan format “TEMPAT, hh-bb-tttt”."
    value, issue = cells.parse_birth_place_date("KENDAL, 31-02-2001", "TTL")
    assert value == ("KENDAL", None)
    assert issue is not None and (issue.code, issue.value) == ("date_invalid", "KENDAL, 31-02-2001")


# ----------------------------------------------------------------------------------------------------------
# Code lists and flags

CODE_PARSERS: list[tuple[cells.Parser, type[models.TextChoices]]] = [
    (cells.parse_sex, choices.Sex),
    (cells.parse_relationship, choices.Relationship),
    (cells.parse_marital_status, choices.MaritalStatus),
    (cells.parse_education, choices.Education),
    (cells.parse_work_status, choices.WorkStatus),
    (cells.parse_disability, choices.Disability),
    (cells.parse_house_ownership, choices.HouseOwnership),
    (cells.parse_roof_type, choices.RoofType),
    (cells.parse_wall_type, choices.WallType),
    (cells.parse_floor_type, choices.FloorType),
    (cells.parse_building_quality, choices.BuildingQuality),
    (cells.parse_lighting_source, choices.LightingSource),
    (cells.parse_power_capacity, choices.PowerCapacity),
    (cells.parse_cooking_fuel, choices.CookingFuel),
    (cells.parse_water_source, choices.WaterSource),
    (cells.parse_toilet_facility, choices.ToiletFacility),
    (cells.parse_verification_priority, choices.VerificationPriority),
]


@pytest.mark.parametrize(("parse", "choice"), CODE_PARSERS, ids=[c.__name__ for _p, c in CODE_PARSERS])
def test_every_code_and_label_maps_in_any_case(parse: cells.Parser, choice: type[models.TextChoices]) -> None:
    for value, label in choice.choices:
        for text in (str(value), str(label).upper(), str(label).lower(), f"  {str(label).upper()}  "):
            assert ok(parse(text, COL)) == value, text


P3KE_WORDS = [
    (cells.parse_house_ownership, "MILIK SENDIRI", "MILIK_SENDIRI"),
    (cells.parse_house_ownership, "Kontrak/Sewa", "KONTRAK_SEWA"),
    (cells.parse_house_ownership, "BEBAS SEWA MILIK ORANG TUA/SAUDARA", "BEBAS_SEWA"),
    (cells.parse_roof_type, "GENTENG", "GENTENG"),
    (cells.parse_roof_type, "Jerami/Ijuk/Daun-daunan/Rumbia", "JERAMI_IJUK_RUMBIA"),
    (cells.parse_roof_type, "GENTENG KERAMIK", "GENTENG"),
    (cells.parse_wall_type, "TEMBOK", "TEMBOK"),
    (cells.parse_wall_type, "PLESTERAN ANYAMAN BAMBU/KAWAT", "PLESTERAN_ANYAMAN_BAMBU"),
    (cells.parse_floor_type, "TANAH", "TANAH"),
    (cells.parse_floor_type, "UBIN/TEGEL/TERASO", "UBIN_TEGEL"),
    (cells.parse_building_quality, "JELEK/KUALITAS RENDAH", "JELEK"),
    (cells.parse_building_quality, "BAGUS/KUALITAS TINGGI", "BAIK"),
    (cells.parse_lighting_source, "LISTRIK PLN DENGAN METERAN", "PLN_METERAN"),
    (cells.parse_lighting_source, "Listrik Non-PLN", "LISTRIK_NON_PLN"),
    (cells.parse_power_capacity, "900 WATT", "900"),
    (cells.parse_power_capacity, "1.300 watt", "1300"),
    (cells.parse_power_capacity, "> 2.200 WATT", "LEBIH_2200"),
    (cells.parse_power_capacity, 450, "450"),
    (cells.parse_cooking_fuel, "ELPIJI 3 KG", "ELPIJI_3KG"),
    (cells.parse_cooking_fuel, "Gas Elpiji 3 Kg", "ELPIJI_3KG"),
    (cells.parse_cooking_fuel, "GAS ELPIJI 5,5 KG/BLUE GAZ", "ELPIJI_5_5KG_LEBIH"),
    (cells.parse_cooking_fuel, "KAYU BAKAR", "KAYU_BAKAR"),
    (cells.parse_water_source, "SUMUR BOR/POMPA", "SUMUR_BOR"),
    (cells.parse_water_source, "sumur bor / pompa", "SUMUR_BOR"),
    (cells.parse_water_source, "SUMUR TAK TERLINDUNG", "SUMUR_TAK_TERLINDUNG"),
    (cells.parse_water_source, "SUMUR TERLINDUNG", "SUMUR_TERLINDUNG"),
    (cells.parse_water_source, "Air Permukaan (Sungai/Danau/Waduk/Kolam/Irigasi)", "AIR_PERMUKAAN"),
    (cells.parse_water_source, "LEDING", "LEDENG"),
    (cells.parse_toilet_facility, "SENDIRI", "SENDIRI"),
    (cells.parse_toilet_facility, "Ada, digunakan hanya Anggota Keluarga sendiri", "SENDIRI"),
    (cells.parse_toilet_facility, "Ada, di MCK umum/siapapun menggunakan", "UMUM"),
    (cells.parse_toilet_facility, "TIDAK ADA FASILITAS", "TIDAK_ADA"),
    (cells.parse_toilet_facility, "YA", "SENDIRI"),
    (cells.parse_verification_priority, "NIK DUPLIKAT", "NIK_DUPLIKAT"),
    (cells.parse_verification_priority, "KELUARGA NIK KOSONG", "KELUARGA_NIK_KOSONG"),
    (cells.parse_sex, "LAKI-LAKI", "L"),
    (cells.parse_sex, "laki laki", "L"),
    (cells.parse_sex, "PEREMPUAN", "P"),
    (cells.parse_sex, "l", "L"),
    (cells.parse_sex, "P", "P"),
    (cells.parse_sex, "1", "L"),
    (cells.parse_sex, "2", "P"),
    (cells.parse_sex, 1, "L"),
    (cells.parse_sex, 2.0, "P"),
    (cells.parse_relationship, "KEPALA KELUARGA", "KEPALA_KELUARGA"),
    (cells.parse_relationship, "ISTRI", "ISTRI_SUAMI"),
    (cells.parse_relationship, "SUAMI", "ISTRI_SUAMI"),
    (cells.parse_relationship, "ANAK KANDUNG", "ANAK"),
    (cells.parse_relationship, "FAMILI LAIN", "FAMILI_LAIN"),
    (cells.parse_marital_status, "BELUM KAWIN", "BELUM_KAWIN"),
    (cells.parse_marital_status, "KAWIN/NIKAH", "KAWIN"),
    (cells.parse_marital_status, "CERAI MATI", "CERAI_MATI"),
    (cells.parse_marital_status, "KAWIN TIDAK TERCATAT", "KAWIN"),
    (cells.parse_education, "TAMAT SD/SEDERAJAT", "SD"),
    (cells.parse_education, "SLTA/SEDERAJAT", "SMA"),
    (cells.parse_education, "SLTP/SEDERAJAT", "SMP"),
    (cells.parse_education, "TIDAK/BELUM SEKOLAH", "TIDAK_SEKOLAH"),
    (cells.parse_education, "BELUM TAMAT SD/SEDERAJAT", "BELUM_TAMAT_SD"),
    (cells.parse_education, "AKADEMI/DIPLOMA III/S. MUDA", "D3"),
    (cells.parse_education, "DIPLOMA IV/STRATA I", "S1_D4"),
    (cells.parse_work_status, "BERUSAHA DIBANTU BURUH TIDAK TETAP/TIDAK DIBAYAR", "BERUSAHA_DIBANTU"),
    (cells.parse_work_status, "PNS/TNI/POLRI/BUMN/BUMD/ANGGOTA LEGISLATIF", "BURUH_KARYAWAN"),
    (cells.parse_work_status, "PEKERJA BEBAS NON PERTANIAN", "PEKERJA_BEBAS"),
    (cells.parse_disability, "TUNA DAKSA/CACAT TUBUH", "FISIK"),
    (cells.parse_disability, "TUNA RUNGU & WICARA", "RUNGU_WICARA"),
    (cells.parse_disability, "TIDAK ADA", "TIDAK_ADA"),
]


@pytest.mark.parametrize(("parse", "cell", "code"), P3KE_WORDS)
def test_source_words(parse: cells.Parser, cell: cells.Cell, code: str) -> None:
    assert ok(parse(cell, COL)) == code


def test_unknown_code_word_is_blanked_with_warning() -> None:
    value, issue = cells.parse_roof_type("ALANG-ALANG", "Jenis Atap")
    assert value is None and issue is not None
    assert (issue.code, issue.severity, issue.value) == ("code_unknown", "warning", "ALANG-ALANG")
    assert issue.message == "Nilai “ALANG-ALANG” pada kolom “Jenis Atap” tidak dikenal; kolom ini dikosongkan."
    assert problem(cells.parse_sex("X", "Jenis Kelamin")).message == (
        "Nilai “X” pada kolom “Jenis Kelamin” tidak dikenal; kolom ini dikosongkan."
    )


def test_code_blank() -> None:
    assert cells.parse_roof_type("", "Jenis Atap") == (None, None)
    assert cells.parse_roof_type("-", "Jenis Atap") == (None, None)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("YA", True),
        ("Ya", True),
        (" y ", True),
        ("1", True),
        (1, True),
        (True, True),
        ("BERISIKO STUNTING", True),
        ("TIDAK", False),
        ("tidak", False),
        ("T", False),
        ("0", False),
        (0, False),
        (False, False),
        ("Tidak Ada", False),
        ("", None),
        (None, None),
    ],
)
def test_bool(cell: cells.Cell, expected: bool | None) -> None:
    assert ok(cells.parse_bool(cell, "Penerima PKH")) is expected


def test_bool_unknown() -> None:
    issue = problem(cells.parse_bool("mungkin", "Penerima PKH"))
    assert (issue.code, issue.severity) == ("code_unknown", "warning")
    assert issue.message == "Nilai “mungkin” pada kolom “Penerima PKH” bukan Ya/Tidak; kolom ini dikosongkan."


def test_long_values_are_cut_in_issues() -> None:
    issue = problem(cells.parse_date("x" * 1000, "Tanggal Lahir"))
    assert len(issue.value) == cells.ISSUE_VALUE_MAX
    assert len(issue.message) < 200


# ----------------------------------------------------------------------------------------------------------
# Hypothesis: no parser ever raises, each returns (value, issue) of the right types

WORDS = [
    "YA", "TIDAK", "L", "P", "LAKI-LAKI", "PEREMPUAN", "MILIK SENDIRI", "GENTENG", "900 WATT", "DESIL 3", "-", "",
    "3324015501900001", "3.32402E+15", "33.24.01.2001", "15-01-1990", "15 Januari 1990", "30-02-1985", "1,0", "E",
    "'", "1e", "1e+", ".", ",", "99", "0000", "31 Desember", "T00:00", "12-12-12 12:12", "\u00a0", "١٢٣",
]  # fmt: skip
CELLS = st.one_of(
    st.none(),
    st.sampled_from(WORDS),
    st.text(max_size=40),
    st.text(alphabet="0123456789 .,-/'eE+:T", max_size=24),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
)

ALL_PARSERS: list[tuple[cells.Parser, tuple[type, ...]]] = [
    (cells.parse_text, (str,)),
    (cells.parse_id, (str,)),
    (cells.parse_no_kk, (str,)),
    (cells.parse_region_code, (str,)),
    (cells.parse_rt_rw, (str,)),
    (cells.parse_desil, (int,)),
    (cells.parse_persentil, (int,)),
    (cells.parse_date, (dt.date,)),
    (cells.parse_bool, (bool,)),
    *[(parse, (str,)) for parse, _choice in CODE_PARSERS],
]


@pytest.mark.parametrize(("parse", "types"), ALL_PARSERS, ids=[p.__name__ for p, _t in ALL_PARSERS])
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cell=CELLS)
def test_parsers_never_raise(parse: cells.Parser, types: tuple[type, ...], cell: cells.Cell) -> None:
    value, issue = parse(cell, COL)
    assert value is None or isinstance(value, types)
    if issue is not None:
        assert isinstance(issue, CellIssue)
        assert issue.severity in ("error", "warning") and issue.message and issue.code
        assert issue.column == COL and len(issue.value) <= cells.ISSUE_VALUE_MAX
    if parse is cells.parse_date and value is not None:
        assert type(value) is dt.date and 1900 <= value.year <= 2100
    if parse is cells.parse_desil and value is not None:
        assert 1 <= value <= 10
    if parse is cells.parse_persentil and value is not None:
        assert 1 <= value <= 100
    if parse is cells.parse_region_code and value is not None:
        assert len(value) == 10 and value.isdigit()
    if parse is cells.parse_no_kk and value is not None:
        assert len(value) == 16 and value.isdigit()


@settings(max_examples=300)
@given(cell=CELLS)
def test_nik_parser_never_raises_and_stores_only_checked_text(cell: cells.Cell) -> None:
    (nik, status, note), issue = cells.parse_nik(cell, "NIK")
    assert status in ("valid", "missing", "invalid", "needs_verification")
    assert (nik is not None) == (status == "valid")
    assert (issue is None) == (status == "valid")
    if nik is not None:
        assert isinstance(cell, str) and check_nik(cell).value == nik
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        assert status == "needs_verification" and note == "NIK tersimpan sebagai angka Excel; perlu verifikasi"


@settings(max_examples=150)
@given(cell=CELLS)
def test_birth_place_date_never_raises(cell: cells.Cell) -> None:
    (place, birth), issue = cells.parse_birth_place_date(cell, "TTL")
    assert place is None or isinstance(place, str)
    assert birth is None or type(birth) is dt.date
    assert issue is None or issue.code in ("date_invalid", "date_range")
