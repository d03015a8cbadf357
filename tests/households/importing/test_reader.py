"""The streaming reader: xlsx against openpyxl's reading of the same files, csv dialects and encodings, and the
refusal of anything that is not an .xlsx or .csv."""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from households.importing import reader
from households.importing.reader import Cell, open_rows
from households.importing.types import ImportFileError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
XLSX_FIXTURES = [
    "p3ke_keluarga_judul.xlsx",
    "p3ke_individu_lama.xlsx",
    "dtks.xlsx",
    "dtsen_sheet_tersembunyi.xlsx",
]


def _normal(cell: object) -> object:
    """One comparable form for both readers: blank -> "", midnight datetime -> date, whole float -> int."""
    if cell is None or cell == "":
        return ""
    if isinstance(cell, dt.datetime) and cell.time() == dt.time(0):
        return cell.date()
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    return cell


def _normal_rows(rows: Iterator[list[Cell]] | Iterator[tuple[object, ...]]) -> list[list[object]]:
    out = [[_normal(cell) for cell in row] for row in rows]
    for row in out:
        while row and row[-1] == "":
            row.pop()
    while out and not out[-1]:
        out.pop()
    return out


def _openpyxl_rows(path: Path) -> list[list[object]]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    sheet = next(ws for ws in workbook.worksheets if ws.sheet_state == "visible")
    rows = _normal_rows(iter(sheet.iter_rows(values_only=True)))
    workbook.close()
    return rows


@pytest.mark.parametrize("name", XLSX_FIXTURES)
def test_xlsx_reads_like_openpyxl(name: str) -> None:
    path = FIXTURES / name
    ours = _normal_rows(open_rows(path))
    assert ours == _openpyxl_rows(path)
    assert len(ours) > 1


def test_xlsx_cell_types() -> None:
    rows = list(open_rows(FIXTURES / "p3ke_keluarga_judul.xlsx"))
    header = rows[12]
    assert header[0] == "ID Keluarga P3KE"
    birth = header.index("Tanggal Lahir")
    nik = header.index("NIK")
    region = header.index("Kode Kemendagri")
    desil = header.index("Desil Kesejahteraan")
    assert rows[13][birth] == dt.date(1980, 1, 12)  # a date cell comes as a date
    assert rows[17][birth] == dt.datetime(1975, 3, 4) or rows[17][birth] == dt.date(1975, 3, 4)
    assert rows[15][nik] == 3324011201800002  # a NIK typed as a number stays a number
    assert rows[15][region] == 3324012001
    assert rows[15][desil] == 2 and rows[13][desil] == 1
    assert rows[14][nik] == "'3324015501900001"  # text stays text, as written
    assert rows[16] == [""] * len(rows[16])  # the blank row is there (row numbers stay right)
    assert rows[13][header.index("Keterangan")] == ""  # blank cell -> ""


def test_open_rows_streams() -> None:
    rows = open_rows(FIXTURES / "dtks.xlsx")
    assert isinstance(rows, Iterator)
    assert next(rows)[0] == "IDDTKS"


def test_xlsx_dates_and_times(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Tanggal", "Waktu", "Angka", "Pecahan", "Bool", "Teks"])
    sheet.append([dt.date(2001, 2, 3), dt.datetime(2001, 2, 3, 4, 5, 6), 7, 7.25, True, " spasi "])
    sheet.append([None, None, None, None, False, ""])
    sheet["A2"].number_format = "dd-mm-yyyy"
    workbook.save(tmp_path / "jenis.xlsx")
    rows = list(open_rows(tmp_path / "jenis.xlsx"))
    assert rows[1][0] in (dt.date(2001, 2, 3), dt.datetime(2001, 2, 3))
    assert rows[1][1:] == [dt.datetime(2001, 2, 3, 4, 5, 6), 7, 7.25, True, " spasi "]
    assert rows[2] == ["", "", "", "", False, ""]
    assert _normal_rows(iter(rows)) == _openpyxl_rows(tmp_path / "jenis.xlsx")


def test_first_visible_sheet_is_read() -> None:
    rows = list(open_rows(FIXTURES / "dtsen_sheet_tersembunyi.xlsx"))
    assert rows[0][0] == "ID Keluarga DTSEN"


def test_empty_workbook_is_refused(tmp_path: Path) -> None:
    Workbook().save(tmp_path / "kosong.xlsx")
    with pytest.raises(ImportFileError) as error:
        open_rows(tmp_path / "kosong.xlsx")
    assert error.value.code == "file_empty"


def test_type_comes_from_content_not_name(tmp_path: Path) -> None:
    xlsx_named_csv = tmp_path / "sebenarnya_xlsx.csv"
    xlsx_named_csv.write_bytes((FIXTURES / "dtks.xlsx").read_bytes())
    assert reader.sniff_format(xlsx_named_csv) == "xlsx"
    assert next(open_rows(xlsx_named_csv))[0] == "IDDTKS"
    csv_named_xlsx = tmp_path / "sebenarnya_csv.xlsx"
    csv_named_xlsx.write_text("NIK,Nama\n3324015501900001,ANI\n", encoding="utf-8")
    assert reader.sniff_format(csv_named_xlsx) == "csv"
    assert list(open_rows(csv_named_xlsx)) == [["NIK", "Nama"], ["3324015501900001", "ANI"]]


# ----------------------------------------------------------------------------------------------------------
# csv


def _write(tmp_path: Path, data: bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiters(tmp_path: Path, delimiter: str) -> None:
    text = delimiter.join(["ID", "Nama", "Bahan Bakar"]) + "\r\n"
    text += delimiter.join(["1", "ANI", '"ELPIJI 5,5 KG; ATAU LEBIH"']) + "\r\n"
    rows = list(open_rows(_write(tmp_path, text.encode())))
    assert rows == [["ID", "Nama", "Bahan Bakar"], ["1", "ANI", "ELPIJI 5,5 KG; ATAU LEBIH"]]


def test_csv_delimiter_is_sniffed_below_a_title_block(tmp_path: Path) -> None:
    lines = ["DATA P3KE KABUPATEN KENDAL, 2024", "", "Dicetak: 01-03-2024"] + [""] * 9
    lines += ["ID Keluarga P3KE;Nama;Bahan Bakar Memasak", "P3KE-1;ANI;ELPIJI 5,5 KG ATAU LEBIH"]
    rows = list(open_rows(_write(tmp_path, "\n".join(lines).encode())))
    assert rows[12] == ["ID Keluarga P3KE", "Nama", "Bahan Bakar Memasak"]
    assert rows[13] == ["P3KE-1", "ANI", "ELPIJI 5,5 KG ATAU LEBIH"]
    assert len(rows) == 14  # blank lines are rows too (row numbers as in the file)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("cp1252", b""), ("utf-16-le", codecs.BOM_UTF16_LE)],
)
def test_csv_encodings(tmp_path: Path, encoding: str, bom: bytes) -> None:
    text = "Nama;Alamat\r\nJOSÉ MUÑOZ;Jl. Kenanga – Blok É\r\n"
    rows = list(open_rows(_write(tmp_path, bom + text.encode(encoding))))
    assert rows == [["Nama", "Alamat"], ["JOSÉ MUÑOZ", "Jl. Kenanga – Blok É"]]


def test_csv_utf8_with_a_stray_windows_byte_late_in_the_file(tmp_path: Path) -> None:
    # The encoding is chosen from the start of the file; a later cp1252 byte must not abort the import.
    head = "Nama,Kota\r\n" + "ANI,KENDAL\r\n" * 200_000
    data = head.encode("utf-8") + "MUÑOZ,KENDAL\r\n".encode("cp1252")
    rows = list(open_rows(_write(tmp_path, data)))
    assert rows[-1] == ["MUÑOZ", "KENDAL"]
    assert len(rows) == 200_002


def test_csv_fixture_cp1252_semicolon() -> None:
    rows = list(open_rows(FIXTURES / "p3ke_individu_cp1252.csv"))
    assert rows[1][2] == "JOSÉ MUÑOZ"
    assert rows[2][2] == "ANDRÉ; SI KECIL"
    assert rows[2][3] == "3,32402E+15"
    assert all(isinstance(cell, str) for row in rows for cell in row)


def test_csv_fixture_utf8_bom() -> None:
    rows = list(open_rows(FIXTURES / "p3ke_keluarga_bom.csv"))
    assert rows[0][0] == "ID Keluarga P3KE"  # no BOM glued to the first header
    assert rows[4] == []  # the blank line


def test_csv_big_cell(tmp_path: Path) -> None:
    note = "x" * 500_000
    rows = list(open_rows(_write(tmp_path, f"ID,Catatan\n1,{note}\n".encode())))
    assert rows[1][1] == note


# ----------------------------------------------------------------------------------------------------------
# Refusals

NOT_SPREADSHEET = (
    "Berkas bukan spreadsheet .xlsx atau .csv. Buka berkas di Excel, lalu simpan ulang sebagai .xlsx atau .csv."
)


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        (
            "bukan_spreadsheet.xls",
            "file_not_spreadsheet",
            "Berkas bukan spreadsheet .xlsx atau .csv (format Excel lama .xls atau berkas yang dilindungi kata sandi). "
            "Buka berkas di Excel, lalu simpan ulang sebagai .xlsx atau .csv.",
        ),
        ("acak.bin", "file_not_spreadsheet", NOT_SPREADSHEET),
        (
            "halaman.xls",
            "file_not_spreadsheet",
            "Berkas bukan spreadsheet .xlsx atau .csv (halaman web/XML yang diberi nama spreadsheet). Buka berkas di "
            "Excel, lalu simpan ulang sebagai .xlsx atau .csv.",
        ),
        (
            "arsip_bukan_excel.xlsx",
            "file_not_spreadsheet",
            "Berkas bukan spreadsheet .xlsx atau .csv (arsip zip yang bukan buku kerja Excel). Buka berkas di Excel, "
            "lalu simpan ulang sebagai .xlsx atau .csv.",
        ),
        (
            "rusak.xlsx",
            "file_corrupt",
            "Berkas .xlsx rusak atau terpotong. Buka berkas di Excel, lalu simpan ulang sebagai .xlsx atau .csv.",
        ),
        (
            "kosong.csv",
            "file_empty",
            "Berkas kosong: tidak ada baris yang dapat dibaca. Unggah berkas .xlsx atau .csv yang berisi data.",
        ),
    ],
)
def test_refusals(name: str, code: str, message: str) -> None:
    with pytest.raises(ImportFileError) as error:
        open_rows(FIXTURES / name)
    assert (error.value.code, error.value.message) == (code, message)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
        b"ID,Nama\x00\x00\x01\x02",
    ],
)
def test_binary_files_are_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(ImportFileError) as error:
        open_rows(_write(tmp_path, data, "data.xlsx"))
    assert (error.value.code, error.value.message) == ("file_not_spreadsheet", NOT_SPREADSHEET)


def test_ods_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "data.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(ImportFileError) as error:
        open_rows(path)
    assert error.value.message == (
        "Berkas bukan spreadsheet .xlsx atau .csv (format OpenDocument .ods). Buka berkas di Excel, lalu simpan ulang "
        "sebagai .xlsx atau .csv."
    )


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n  ", codecs.BOM_UTF8])
def test_blank_files_are_empty(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(ImportFileError) as error:
        open_rows(_write(tmp_path, data))
    assert error.value.code == "file_empty"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError) as error:
        open_rows(tmp_path / "tidak_ada.csv")
    assert error.value.code == "file_unreadable"
