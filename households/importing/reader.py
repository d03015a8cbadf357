"""Stream the rows of an uploaded spreadsheet: the one reader module of the import engine (swappable).

``open_rows(path)`` recognises the file by its content, not its name:

* ``.xlsx`` / ``.xlsm`` (a zip holding ``xl/workbook.xml``): streamed with python-calamine-plus
  ``stream_sheet_by_index()`` in constant memory (the first visible worksheet). Numbers stay numbers
  (``int`` when whole, else ``float``), dates come as ``date``/``datetime``, booleans as ``bool``.
* text (``.csv``, ``.txt``): the ``csv`` module, line by line. Delimiter comma, semicolon or tab (sniffed
  from the first lines); encoding UTF-8 (with or without BOM; a stray non-UTF-8 byte is read as
  Windows-1252), else Windows-1252; UTF-16 with a BOM (Excel's "Unicode text") too. Every cell is ``str``.
* anything else (an old ``.xls``, a password-protected workbook, ``.ods``, ``.xlsb``, a PDF, an HTML page
  renamed ``.xls``, random bytes) and an empty file: ``ImportFileError`` telling the user what to do.

Rows are lists of cells in sheet order, one per sheet/file row, blank rows included, so that the n-th row
yielded is row n as the user sees it in Excel. A blank cell is ``""`` (never ``None``); rows can differ in
length (csv) or be padded to the sheet's width (xlsx).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

from django.utils.translation import gettext as _

from households.importing.types import ImportFileError

Cell = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None
FileFormat = Literal["xlsx", "csv"]

SNIFF_BYTES = 1 << 20  # bytes read to choose the encoding
SNIFF_LINES = 60  # lines parsed to choose the delimiter (covers a title block of ~12 rows and the header)
DELIMITERS = (",", ";", "\t")
CSV_FIELD_LIMIT = 1 << 24  # one cell up to 16 MB (the csv module's default, 128 KB, is too small for notes)

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGICS = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x1f\x8b",
    b"Rar!",
    b"7z\xbc\xaf",
    b"BZh",
    b"\xfd7zXZ",
    b"MZ",
    b"\x7fELF",
)
_FALLBACK_ERRORS = "tkpk_cp1252"


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 are read as Windows-1252 (undefined ones as Latin-1)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return "".join(_cp1252_char(b) for b in chunk), error.end


def _cp1252_char(byte: int) -> str:
    try:
        return bytes((byte,)).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


codecs.register_error(_FALLBACK_ERRORS, _cp1252_fallback)
csv.field_size_limit(CSV_FIELD_LIMIT)


def _not_spreadsheet(detail: str | None = None) -> ImportFileError:
    if detail:
        message = _(
            "Berkas bukan spreadsheet .xlsx atau .csv (%(detail)s). Buka berkas di Excel, lalu simpan ulang "
            "sebagai .xlsx atau .csv."
        ) % {"detail": detail}
    else:
        message = _(
            "Berkas bukan spreadsheet .xlsx atau .csv. Buka berkas di Excel, lalu simpan ulang sebagai .xlsx atau .csv."
        )
    return ImportFileError(message, "file_not_spreadsheet")


def _empty_file() -> ImportFileError:
    return ImportFileError(
        _("Berkas kosong: tidak ada baris yang dapat dibaca. Unggah berkas .xlsx atau .csv yang berisi data."),
        "file_empty",
    )


def sniff_format(path: Path) -> FileFormat:
    """``"xlsx"`` or ``"csv"`` from the file's first bytes; ``ImportFileError`` for anything else."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8192)
    except OSError as exc:
        raise ImportFileError(
            _("Berkas tidak dapat dibuka (%(error)s). Unggah ulang berkasnya.") % {"error": exc.strerror or exc},
            "file_unreadable",
        ) from exc
    if not head.strip():
        raise _empty_file()
    if head.startswith(_ZIP_MAGIC):
        _check_xlsx_zip(path)
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        raise _not_spreadsheet(_("format Excel lama .xls atau berkas yang dilindungi kata sandi"))
    if head.startswith(_BINARY_MAGICS):
        raise _not_spreadsheet()
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"
    if b"\x00" in head:
        raise _not_spreadsheet()
    text = head.lstrip(codecs.BOM_UTF8).lstrip()[:512].lower()
    if text.startswith((b"<!doctype", b"<html", b"<table", b"<?xml", b"<workbook")):
        raise _not_spreadsheet(_("halaman web/XML yang diberi nama spreadsheet"))
    return "csv"


def _check_xlsx_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileError(
            _("Berkas .xlsx rusak atau terpotong. Buka berkas di Excel, lalu simpan ulang sebagai .xlsx atau .csv."),
            "file_corrupt",
        ) from exc
    if "xl/workbook.xml" in names:
        return
    if b"opendocument.spreadsheet" in mimetype:
        raise _not_spreadsheet(_("format OpenDocument .ods"))
    if "xl/workbook.bin" in names:
        raise _not_spreadsheet(_("format Excel biner .xlsb"))
    raise _not_spreadsheet(_("arsip zip yang bukan buku kerja Excel"))


def open_rows(path: Path) -> Iterator[list[Cell]]:
    """Every row of the first visible worksheet (.xlsx) or of the .csv, streamed.

    File-level faults are raised here, before the first row is consumed: not a spreadsheet, a corrupt
    workbook, an empty file (``ImportFileError``).
    """
    path = Path(path)
    rows = _xlsx_rows(path) if sniff_format(path) == "xlsx" else _csv_rows(path)
    first = next(rows, None)
    if first is None:
        raise _empty_file()
    return itertools.chain((first,), rows)


# ----------------------------------------------------------------------------------------------------------
# xlsx


def _xlsx_rows(path: Path) -> Iterator[list[Cell]]:
    import python_calamine_plus as calamine

    try:
        workbook = calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError as exc:
        raise _not_spreadsheet(_("berkas dilindungi kata sandi")) from exc
    except calamine.CalamineError as exc:
        raise ImportFileError(
            _(
                "Berkas .xlsx rusak atau tidak dapat dibaca (%(error)s). Buka berkas di Excel, lalu simpan ulang "
                "sebagai .xlsx atau .csv."
            )
            % {"error": str(exc)[:200]},
            "file_corrupt",
        ) from exc
    return _stream_sheet(workbook, _first_visible_sheet(workbook))


def _first_visible_sheet(workbook: Any) -> int:
    import python_calamine_plus as calamine

    for index, meta in enumerate(workbook.sheets_metadata):
        if meta.visible == calamine.SheetVisibleEnum.Visible and meta.typ == calamine.SheetTypeEnum.WorkSheet:
            return index
    return 0


def _stream_sheet(workbook: Any, index: int) -> Iterator[list[Cell]]:
    import python_calamine_plus as calamine

    try:
        with workbook:
            try:
                stream = workbook.stream_sheet_by_index(index)
            except calamine.CalamineError as exc:
                raise _not_spreadsheet(str(exc)[:200]) from exc
            yield from stream
    except calamine.CalamineError as exc:
        raise ImportFileError(
            _(
                "Berkas .xlsx rusak di tengah pembacaan (%(error)s). Buka berkas di Excel, lalu simpan ulang "
                "sebagai .xlsx atau .csv."
            )
            % {"error": str(exc)[:200]},
            "file_corrupt",
        ) from exc


# ----------------------------------------------------------------------------------------------------------
# csv


def sniff_encoding(sample: bytes) -> str:
    """The codec name for a text file starting with ``sample`` (BOM, else UTF-8 if it decodes, else cp1252)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # final=False: a multi-byte character cut by the end of the sample is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the sample lines into the widest row (comma on a tie)."""
    best, best_width = ",", 1
    for delimiter in DELIMITERS:
        width = max((len(row) for row in csv.reader(lines, delimiter=delimiter)), default=0)
        if width > best_width:
            best, best_width = delimiter, width
    return best


def _open_text(path: Path, encoding: str) -> IO[str]:
    return path.open("r", encoding=encoding, errors=_FALLBACK_ERRORS, newline="")


def _csv_rows(path: Path) -> Iterator[list[Cell]]:
    with path.open("rb") as handle:
        sample = handle.read(SNIFF_BYTES)
    encoding = sniff_encoding(sample)
    with _open_text(path, encoding) as text:
        lines = list(itertools.islice(text, SNIFF_LINES))
    delimiter = sniff_delimiter(lines)
    return _csv_stream(path, encoding, delimiter)


def _csv_stream(path: Path, encoding: str, delimiter: str) -> Iterator[list[Cell]]:
    with _open_text(path, encoding) as text:
        try:
            yield from csv.reader(text, delimiter=delimiter)
        except csv.Error as exc:
            raise ImportFileError(
                _("Berkas .csv tidak dapat dibaca (%(error)s). Simpan ulang sebagai .xlsx atau .csv.")
                % {"error": str(exc)[:200]},
                "file_corrupt",
            ) from exc
