"""Synthetic P3KE files: written in both formats, export headers, row counts, the injected bad rows."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from households.importing.synthetic import (
    FAMILY_HEADERS,
    PERSON_HEADERS,
    TITLE_BLOCK_ROWS,
    families_for_persons,
    p3ke_files_write,
)


def xlsx_rows(path: Path) -> list[list[object]]:
    workbook = load_workbook(path, read_only=True)
    rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    workbook.close()
    return rows


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def as_csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, float):
        return f"{value:.5E}"
    return str(value)


def test_clean_files_headers_rows_and_formats_agree(tmp_path: Path) -> None:
    files = p3ke_files_write(directory=tmp_path, families=40, seed=7)

    assert files.expected is None
    assert files.header_row == 1
    for kind, headers, count in (
        ("family", FAMILY_HEADERS, files.families),
        ("person", PERSON_HEADERS, files.persons),
    ):
        paths = files.family if kind == "family" else files.person
        assert set(paths) == {"xlsx", "csv"}
        sheet, text = xlsx_rows(paths["xlsx"]), csv_rows(paths["csv"])
        assert sheet[0] == list(headers)
        assert len(sheet) == len(text) == count + 1
        assert [[as_csv_text(v) for v in row] for row in sheet] == text

    assert files.families == 40
    assert 40 <= files.persons <= 40 * 7
    family = xlsx_rows(files.family["xlsx"])[1:]
    persons = xlsx_rows(files.person["xlsx"])[1:]
    family_ids = {row[0] for row in family}
    assert len(family_ids) == 40
    assert {row[0] for row in persons} == family_ids
    assert len({row[1] for row in persons}) == files.persons

    nik, sex, birth = (FAMILY_HEADERS.index(h) for h in ("NIK", "Jenis Kelamin", "Tanggal Lahir"))
    for row in family:
        assert row[nik] is None or (isinstance(row[nik], str) and len(row[nik]) == 16)
        assert row[sex] in {"LAKI-LAKI", "PEREMPUAN"}
        assert isinstance(row[birth], dt.datetime)
        assert len(str(row[FAMILY_HEADERS.index("Kode Kemendagri")])) == 10
        assert 1 <= int(row[FAMILY_HEADERS.index("Desil Kesejahteraan")]) <= 4
    assert sum(row[nik] is None for row in family) == files.blank_nik_families
    assert sum(row[PERSON_HEADERS.index("NIK")] is None for row in persons) == files.blank_nik_persons
    relationships = {row[PERSON_HEADERS.index("Hubungan dengan Kepala Keluarga")] for row in persons}
    assert "KEPALA KELUARGA" in relationships


def test_same_seed_same_rows_and_persons_target(tmp_path: Path) -> None:
    first = p3ke_files_write(directory=tmp_path / "a", persons=400, formats=("csv",))
    second = p3ke_files_write(directory=tmp_path / "b", persons=400, formats=("csv",))

    assert first.families == families_for_persons(400) == 100
    assert set(first.family) == {"csv"}
    assert first.person["csv"].read_bytes() == second.person["csv"].read_bytes()
    assert 300 <= first.persons <= 500


def test_messy_files_with_title_block_hold_the_expected_bad_rows(tmp_path: Path) -> None:
    files = p3ke_files_write(directory=tmp_path, families=60, messy=True, title_block=True, seed=3)
    expected = files.expected
    assert expected is not None

    assert files.header_row == TITLE_BLOCK_ROWS + 1 == 13
    family_sheet = xlsx_rows(files.family["xlsx"])
    person_sheet = xlsx_rows(files.person["xlsx"])
    person_text = csv_rows(files.person["csv"])
    assert family_sheet[12] == list(FAMILY_HEADERS) and person_sheet[12] == list(PERSON_HEADERS)
    assert all(len([v for v in row if v not in (None, "")]) <= 1 for row in family_sheet[:12])
    assert len(family_sheet) == 13 + files.families == 13 + 60 + 1  # + the duplicate ID
    assert len(person_sheet) == len(person_text) == 13 + files.persons

    codes = sorted((row.kind, row.code) for row in expected.rows)
    assert codes == sorted([
        ("family", "desil_range"), ("family", "region_unknown"), ("family", "required"),
        ("family", "duplicate_id"), ("family", "nik_excel_number"), ("person", "nik_excel_number"),
        ("person", "date_invalid"), ("person", "required"), ("person", "duplicate_id"),
        ("person", "family_missing"),
    ])  # fmt: skip
    assert expected.families_rejected == 4
    assert expected.family_warnings == expected.person_warnings == 1

    rejected_families = {
        row.external_id for row in expected.rows if row.kind == "family" and row.severity == "error"
    } - {row.external_id for row in expected.rows if row.code == "duplicate_id"}
    orphaned = sum(1 for row in person_sheet[13:] if row[0] in rejected_families)
    assert orphaned == expected.persons_of_rejected_families > 0
    assert expected.persons_rejected == 4 + orphaned

    def cell(sheet: list[list[object]], row_number: int, headers: tuple[str, ...], column: str) -> object:
        return sheet[row_number - 1][headers.index(column)]

    for row in expected.rows:
        sheet, headers = (family_sheet, FAMILY_HEADERS) if row.kind == "family" else (person_sheet, PERSON_HEADERS)
        value = cell(sheet, row.row_number, headers, row.column)
        id_column = "ID Keluarga P3KE" if row.kind == "family" else "ID Individu"
        if row.code != "family_missing":
            assert cell(sheet, row.row_number, headers, id_column) == row.external_id
        if row.code == "desil_range":
            assert value == 11
        elif row.code == "region_unknown":
            assert value == "3324992001"
        elif row.code == "required":
            assert value is None
        elif row.code == "nik_excel_number":
            assert isinstance(value, int | float) and value > 1e15  # a number cell, not text
            if row.kind == "person":
                assert "E+15" in person_text[row.row_number - 1][headers.index("NIK")]
        elif row.code == "date_invalid":
            assert value == "30-02-1985"
        elif row.code == "duplicate_id":
            earlier = [r for r in sheet[13 : row.row_number - 1] if r[headers.index(id_column)] == row.external_id]
            assert len(earlier) == 1
        elif row.code == "family_missing":
            assert value not in {r[0] for r in family_sheet[13:]}


def test_messy_needs_enough_families(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="minimal"):
        p3ke_files_write(directory=tmp_path, families=3, messy=True)
