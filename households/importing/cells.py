"""Pure per-column cell parsers: one raw cell -> ``(typed value, CellIssue | None)``.

Every parser has the signature ``parse_x(cell: Cell, column: str) -> tuple[value, CellIssue | None]`` where
``column`` is the header as written in the file (it goes into the issue). Parsers never raise: a value they
cannot read becomes an issue. A blank cell (``""``, ``None``, only spaces, or ``-``) gives ``None``.

Severity: ``error`` rejects the row (unreadable date, desil/persentil out of range, malformed region code,
required value blank); ``warning`` keeps the row with the value blanked or repaired (unknown code word, NIK or
No KK that cannot be stored).

The code lists map the sources' upper-case Indonesian words (``MILIK SENDIRI``, ``LISTRIK PLN DENGAN
METERAN``, ``ELPIJI 3 KG``...) onto ``households.choices`` codes, compared without case, spaces or
punctuation. They are data: add a synonym to the tables below when a new export spells a word differently.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _
from lokal import PROVINCES

from households import choices
from households.importing.reader import Cell
from households.importing.types import CellIssue
from tkpk.identifiers import IdentifierError, check_nik, check_no_kk, normalize_region_code

Result = tuple[Any, CellIssue | None]
Parser = Callable[[Cell, str], Result]

ISSUE_VALUE_MAX = 300  # RowError.value
MESSAGE_VALUE_MAX = 80  # a value quoted inside a message
BLANK_WORDS = frozenset({"", "-", "--", "---", "."})
EXCEL_EPOCH = dt.date(1899, 12, 30)
MIN_YEAR, MAX_YEAR = 1900, 2100
# Two-digit years: up to this year's two digits -> 20yy, above -> 19yy (birth dates).
_TWO_DIGIT_PIVOT = dt.datetime.now(dt.UTC).year % 100


# ----------------------------------------------------------------------------------------------------------
# Shared helpers


def cell_text(cell: Cell) -> str:
    """A cell as text, the way the user saw it: numbers without a trailing ``.0``, dates in ISO form.

    A float of 15 digits or more keeps its float form (``3324015501900000.0``) so that a NIK that Excel
    stored as a number is visibly a number in the raw row and in the error report.
    """
    if isinstance(cell, str):
        return cell
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, float):
        if cell.is_integer() and abs(cell) < 1e15:
            return str(int(cell))
        return repr(cell)
    if isinstance(cell, dt.datetime):
        if cell.hour == cell.minute == cell.second == cell.microsecond == 0:
            return cell.date().isoformat()
        return cell.isoformat(sep=" ")
    if isinstance(cell, dt.date | dt.time):
        return cell.isoformat()
    return str(cell)


def is_blank(cell: Cell) -> bool:
    if isinstance(cell, str):
        return cell.strip() in BLANK_WORDS
    return cell is None


def _quote(cell: Cell) -> str:
    text = cell_text(cell).strip()
    return text if len(text) <= MESSAGE_VALUE_MAX else text[: MESSAGE_VALUE_MAX - 1] + "…"


def issue(column: str, cell: Cell, code: str, message: str, severity: str = "error") -> CellIssue:
    """A CellIssue with the raw value as text (cut to what ``RowError.value`` holds)."""
    return CellIssue(
        column=column,
        value=cell_text(cell)[:ISSUE_VALUE_MAX],
        code=code,
        message=message,
        severity="warning" if severity == "warning" else "error",
    )


def required_issue(column: str, cell: Cell) -> CellIssue:
    return issue(column, cell, "required", _("Kolom “%(column)s” wajib diisi.") % {"column": column})


# ----------------------------------------------------------------------------------------------------------
# Text and identifiers of the source


def parse_text(cell: Cell, column: str) -> Result:
    """Free text (names, addresses, occupations): spaces trimmed and runs of spaces collapsed."""
    if isinstance(cell, str):
        text = " ".join(cell.split())
        return (None if text in BLANK_WORDS else text), None
    if cell is None:
        return None, None
    return cell_text(cell), None


def parse_id(cell: Cell, column: str) -> Result:
    """A source's record id (ID Keluarga P3KE, ID Individu, IDDTKS): text, a leading apostrophe dropped."""
    if isinstance(cell, str):
        text = cell.strip().lstrip("'").strip()
        return (None if text in BLANK_WORDS else text), None
    if cell is None:
        return None, None
    return cell_text(cell), None


def _is_number_text(text: str) -> bool:
    """``3.324015501900001E+15``, ``3,32402E+15`` or ``3324015501900001.0``: a number written out as text."""
    if not text or not text[0].isdigit():
        return False
    upper = text.upper()
    if "E" in upper:
        mantissa, _e, exponent = upper.partition("E")
        return mantissa.replace(",", ".", 1).replace(".", "", 1).isdigit() and exponent.lstrip("+-").isdigit()
    for mark in (".", ","):
        if text.count(mark) == 1:
            whole, _m, fraction = text.partition(mark)
            if whole.isdigit() and len(whole) >= 12 and fraction.isdigit() and len(fraction) <= 2:
                return True
    return False


def _is_number(cell: Cell) -> bool:
    """A numeric cell (not a bool)."""
    return isinstance(cell, int | float) and not isinstance(cell, bool)


def _is_numeric(cell: Cell) -> bool:
    """A number, or a number written out as text: never an identifier."""
    if isinstance(cell, str):
        return _is_number_text(cell.strip().lstrip("'"))
    return _is_number(cell)


NIK_VALID = choices.NikStatus.VALID.value
NIK_MISSING = choices.NikStatus.MISSING.value
NIK_INVALID = choices.NikStatus.INVALID.value
NIK_NEEDS_VERIFICATION = choices.NikStatus.NEEDS_VERIFICATION.value


_DAYS_IN_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _plain_nik_valid(digits: str) -> bool:
    """Fast structural check of 16 ASCII digits; True only where ``tkpk.identifiers.check_nik`` accepts too
    (same rules as lokal-id: known province, kab/kec not 00, birth date with +40 for women, serial not 0000).
    Anything it does not accept goes through ``check_nik`` for the exact message."""
    if digits[:2] not in PROVINCES or digits[2:4] == "00" or digits[4:6] == "00" or digits[12:] == "0000":
        return False
    day, month, yy = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    if day > 40:
        day -= 40
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month]:
        return False
    if month == 2 and day == 29:
        year = 2000 + yy if yy <= _TWO_DIGIT_PIVOT else 1900 + yy
        return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return True


def parse_nik(cell: Cell, column: str) -> Result:
    """NIK -> ``((nik | None, nik_status, nik_note), issue)``; the row is never rejected for its NIK.

    Text is cleaned (spaces, dots, leading apostrophe) and checked structurally. A number (numeric cell, or
    text in scientific notation) is never stored: Excel keeps 15 significant digits, the 16th may be lost.
    """
    if isinstance(cell, str):
        text = cell.strip()
        if len(text) == 16 and text.isdigit() and text.isascii() and _plain_nik_valid(text):
            return (text, NIK_VALID, ""), None
    if is_blank(cell):
        message = _("NIK kosong.")
        return (None, NIK_MISSING, ""), issue(column, cell, "nik_empty", message, "warning")
    if _is_numeric(cell):
        note = _("NIK tersimpan sebagai angka Excel; perlu verifikasi")
        message = _(
            "NIK “%(value)s” tersimpan sebagai angka Excel: digit terakhir bisa hilang, jadi NIK tidak disimpan "
            "dan perlu verifikasi. Simpan kolom NIK sebagai teks."
        ) % {"value": _quote(cell)}
        return (None, NIK_NEEDS_VERIFICATION, note), issue(column, cell, "nik_excel_number", message, "warning")
    check = check_nik(cell_text(cell))
    if check.value is not None:
        return (check.value, NIK_VALID, ""), None
    error = str(check.error)
    message = _("NIK “%(value)s” tidak sah: %(error)s") % {"value": _quote(cell), "error": error}
    return (None, NIK_INVALID, error), issue(column, cell, check.code or "nik_invalid", message, "warning")


def parse_no_kk(cell: Cell, column: str) -> Result:
    """Nomor KK -> ``(no_kk | None, issue)``: like a NIK (never from a number), blank without a warning."""
    if is_blank(cell):
        return None, None
    if _is_numeric(cell):
        message = _(
            "Nomor KK “%(value)s” tersimpan sebagai angka Excel: digit terakhir bisa hilang, jadi Nomor KK tidak "
            "disimpan. Simpan kolom Nomor KK sebagai teks."
        ) % {"value": _quote(cell)}
        return None, issue(column, cell, "kk_excel_number", message, "warning")
    check = check_no_kk(cell_text(cell))
    if check.value is not None:
        return check.value, None
    message = _("Nomor KK “%(value)s” tidak sah: %(error)s") % {"value": _quote(cell), "error": check.error}
    return None, issue(column, cell, check.code or "kk_invalid", message, "warning")


def parse_region_code(cell: Cell, column: str) -> Result:
    """Kemendagri desa/kelurahan code, ``33.24.01.2001`` or ``3324012001`` -> ``"3324012001"``."""
    if is_blank(cell):
        return None, None
    if isinstance(cell, float) and cell.is_integer():
        text = str(int(cell))
    else:
        text = "".join(cell_text(cell).split()).lstrip("'")
    try:
        code = normalize_region_code(text)
    except IdentifierError as exc:
        return None, issue(column, cell, exc.code, exc.message)
    if len(code) != 10:
        message = _(
            "Kode wilayah “%(value)s” bukan kode desa/kelurahan: harus 10 digit (mis. 33.24.01.2001 atau 3324012001)."
        ) % {"value": _quote(cell)}
        return None, issue(column, cell, "region_not_desa", message)
    return code, None


def parse_rt_rw(cell: Cell, column: str) -> Result:
    """RT/RW number: ``1``, ``01``, ``RT 001``, ``1.0`` -> ``"001"``; anything else is blanked with a warning."""
    if is_blank(cell):
        return None, None
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        number = float(cell)
        text = str(int(number)) if number.is_integer() and number >= 0 else ""
    else:
        text = cell_text(cell).strip().upper()
        for prefix in ("RT", "RW"):
            if text.startswith(prefix):
                text = text[2:].lstrip(" .:")
        if text.endswith(".0"):
            text = text[:-2]
    if text.isdigit() and len(text) <= 3 and text.isascii():
        return text.zfill(3), None
    message = _("RT/RW “%(value)s” bukan angka 1–3 digit; kolom dikosongkan.") % {"value": _quote(cell)}
    return None, issue(column, cell, "rt_rw_format", message, "warning")


# ----------------------------------------------------------------------------------------------------------
# Numbers


def _small_int(cell: Cell, prefixes: tuple[str, ...]) -> int | None:
    """``3``, ``3.0``, ``"3"``, ``"3,0"``, ``"DESIL 3"`` -> 3; None when it is not a whole number."""
    if isinstance(cell, bool) or not isinstance(cell, int | float | str):
        return None
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        return int(cell) if cell.is_integer() else None
    text = cell.strip().upper()
    if text.isdigit() and text.isascii():
        return int(text)
    for prefix in prefixes:
        if text.startswith(prefix):
            text = text[len(prefix) :].strip(" :-")
            break
    text = text.replace(",", ".")
    if text.endswith(".0"):
        text = text[:-2]
    elif text.endswith(".00"):
        text = text[:-3]
    if text.isdigit() and text.isascii() and len(text) <= 6:
        return int(text)
    return None


def parse_desil(cell: Cell, column: str) -> Result:
    """Desil kesejahteraan 1-10 (``1``, ``1.0``, ``DESIL 1``)."""
    if is_blank(cell):
        return None, None
    number = _small_int(cell, ("DESIL",))
    if number is None:
        message = _("Desil “%(value)s” bukan angka bulat 1–10.") % {"value": _quote(cell)}
        return None, issue(column, cell, "desil_format", message)
    if not 1 <= number <= 10:
        message = _("Desil “%(value)s” di luar rentang 1–10.") % {"value": _quote(cell)}
        return None, issue(column, cell, "desil_range", message)
    return number, None


def parse_persentil(cell: Cell, column: str) -> Result:
    """Persentil (peringkat kesejahteraan) 1-100."""
    if is_blank(cell):
        return None, None
    number = _small_int(cell, ("PERSENTIL", "PERINGKAT"))
    if number is None:
        message = _("Persentil “%(value)s” bukan angka bulat 1–100.") % {"value": _quote(cell)}
        return None, issue(column, cell, "persentil_format", message)
    if not 1 <= number <= 100:
        message = _("Persentil “%(value)s” di luar rentang 1–100.") % {"value": _quote(cell)}
        return None, issue(column, cell, "persentil_range", message)
    return number, None


# ----------------------------------------------------------------------------------------------------------
# Dates

MONTHS: dict[str, int] = {
    "januari": 1, "jan": 1, "january": 1,
    "februari": 2, "pebruari": 2, "feb": 2, "peb": 2, "february": 2,
    "maret": 3, "mar": 3, "march": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "agustus": 8, "agu": 8, "agt": 8, "ags": 8, "agust": 8, "aug": 8, "august": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "oct": 10, "october": 10,
    "november": 11, "nov": 11, "nop": 11, "nopember": 11,
    "desember": 12, "des": 12, "dec": 12, "december": 12,
}  # fmt: skip
_DATE_SEPARATORS = str.maketrans({"/": " ", "-": " ", ".": " ", ",": " "})


def _year(text: str) -> int:
    year = int(text)
    if len(text) <= 2:
        year += 2000 if year <= _TWO_DIGIT_PIVOT else 1900
    return year


def _date_from_text(text: str) -> dt.date:
    """``yyyy-mm-dd``, ``dd-mm-yyyy``, ``dd/mm/yyyy``, ``dd.mm.yyyy``, ``dd-mm-yy``, ``15 Januari 1990``,
    ``15-Jan-1990``, ``19900115``, an Excel serial number as text, each with an optional time part.
    Raises ValueError (also for an impossible date like 30-02-1985)."""
    if len(text) >= 10 and text[4] in "-/." and text[7] == text[4] and text[:4].isdigit():
        rest = text[10:]
        if rest and rest[0] not in " T":
            raise ValueError(text)
        return dt.date(int(text[:4]), int(text[5:7]), int(text[8:10]))
    if (
        len(text) >= 10
        and text[2] in "-/."
        and text[5] == text[2]
        and text[:2].isdigit()
        and text[3:5].isdigit()
        and text[6:10].isdigit()
        and (len(text) == 10 or text[10] == " ")
    ):
        return dt.date(int(text[6:10]), int(text[3:5]), int(text[:2]))
    tokens = text.translate(_DATE_SEPARATORS).split()
    if len(tokens) > 3 and ":" in tokens[-1]:
        tokens.pop()  # a time part: "15/01/1990 00:00:00"
    if len(tokens) == 1 and tokens[0].isdigit() and tokens[0].isascii():
        digits = tokens[0]
        if len(digits) == 8:
            return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        if len(digits) == 5:
            return _date_from_serial(float(digits))
        raise ValueError(text)
    if len(tokens) != 3:
        raise ValueError(text)
    first, middle, last = tokens
    if not (first.isdigit() and last.isdigit() and first.isascii() and last.isascii()):
        raise ValueError(text)
    if middle.isdigit() and middle.isascii():
        month = int(middle)
    else:
        month = MONTHS[middle.lower()]
    if len(first) == 4 and len(last) <= 2:
        return dt.date(int(first), month, int(last))
    if len(last) not in (2, 4) or len(first) > 2:
        raise ValueError(text)
    return dt.date(_year(last), month, int(first))


def _date_from_serial(serial: float) -> dt.date:
    """Excel 1900 date system serial number (the day count Excel shows for a date cell formatted General)."""
    if not 1 <= serial < 2_958_466 or 1000 <= serial <= MAX_YEAR:  # a bare year is not a date
        raise ValueError(serial)
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def _date_issue(cell: Cell, column: str) -> CellIssue:
    message = _("Tanggal “%(value)s” tidak valid atau tidak dikenali; gunakan format hh-bb-tttt, mis. 15-01-1990.") % {
        "value": _quote(cell)
    }
    return issue(column, cell, "date_invalid", message)


def parse_date(cell: Cell, column: str) -> Result:
    """A date (birth date): xlsx date/datetime, Excel serial number or text in the formats above."""
    if isinstance(cell, str):
        text = cell.strip()
        if text in BLANK_WORDS:
            return None, None
        try:
            value = _date_from_text(text)
        except (ValueError, KeyError, OverflowError):
            return None, _date_issue(cell, column)
    elif isinstance(cell, dt.datetime):
        value = cell.date()
    elif isinstance(cell, dt.date):
        value = cell
    elif cell is None:
        return None, None
    elif _is_number(cell):
        try:
            value = _date_from_serial(float(cell))  # type: ignore[arg-type]
        except (ValueError, OverflowError):
            return None, _date_issue(cell, column)
    else:
        return None, _date_issue(cell, column)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        message = _("Tanggal “%(value)s” di luar rentang tahun %(min)s–%(max)s.") % {
            "value": _quote(cell),
            "min": MIN_YEAR,
            "max": MAX_YEAR,
        }
        return None, issue(column, cell, "date_range", message)
    return value, None


def parse_birth_place_date(cell: Cell, column: str) -> Result:
    """``KENDAL, 15-01-1990`` (one "tempat/tanggal lahir" column) -> ``((place | None, date | None), issue)``."""
    if is_blank(cell):
        return (None, None), None
    if not isinstance(cell, str):
        birth, problem = parse_date(cell, column)
        return (None, birth), problem
    text = " ".join(cell.split())
    place, comma, date_text = text.rpartition(",")
    if not comma:
        # "KENDAL 15-01-1990": the date is the last word (or the last three for "15 Januari 1990").
        words = text.split(" ")
        for size in (3, 1):
            if len(words) > size:
                candidate, problem = parse_date(" ".join(words[-size:]), column)
                if problem is None:
                    return (" ".join(words[:-size]) or None, candidate), None
        return (text, None), issue(
            column,
            cell,
            "date_invalid",
            _("Tanggal lahir tidak ditemukan pada “%(value)s”; gunakan format “TEMPAT, hh-bb-tttt”.")
            % {"value": _quote(cell)},
        )
    birth, problem = parse_date(date_text.strip(), column)
    if problem is not None:
        problem = issue(column, cell, problem.code, problem.message)
    return (place.strip() or None, birth), problem


# ----------------------------------------------------------------------------------------------------------
# Code lists

_KEY_TOKENS = re.compile(r"[^\W_]+")
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4"}


def code_key(text: str) -> str:
    """Comparison key of a code word: upper case, no spaces or punctuation, ``>`` read as LEBIH, Roman
    numerals as digits (``DIPLOMA I/II`` -> ``DIPLOMA12``, distinct from ``DIPLOMA III`` -> ``DIPLOMA3``).
    Code lists call it once per distinct cell text (the mapping memoizes), so a regex is fine here."""
    tokens = _KEY_TOKENS.findall(text.replace(">", " LEBIH ").upper())
    return "".join(_ROMAN.get(token, token) for token in tokens)


class CodeList:
    """Source words -> one ``households.choices`` list.

    Matching, in order: the choice's code and label (``MILIK_SENDIRI``, ``Milik sendiri``), the synonyms,
    then the prefixes (first match wins), all on ``code_key``. Built on first use (labels are translated).
    """

    def __init__(
        self,
        choice: type[models.TextChoices],
        synonyms: dict[str, Iterable[str]] | None = None,
        prefixes: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.choice = choice
        self.synonyms = synonyms or {}
        self.prefixes = tuple((code_key(prefix), code) for prefix, code in prefixes)
        self._table: dict[str, str] | None = None

    @property
    def table(self) -> dict[str, str]:
        if self._table is None:
            table: dict[str, str] = {}
            with translation.override("id"):
                for value, label in self.choice.choices:
                    table[code_key(str(value))] = str(value)
                    table[code_key(str(label))] = str(value)
            for code, words in self.synonyms.items():
                for word in words:
                    table[code_key(word)] = code
            self._table = table
        return self._table

    def lookup(self, text: str) -> str | None:
        key = code_key(text)
        code = self.table.get(key)
        if code is not None or not key:
            return code
        for prefix, candidate in self.prefixes:
            if key.startswith(prefix):
                return candidate
        return None


def _code_value(codes: CodeList, cell: Cell, column: str) -> Result:
    if is_blank(cell):
        return None, None
    code = codes.lookup(cell_text(cell))
    if code is not None:
        return code, None
    message = _("Nilai “%(value)s” pada kolom “%(column)s” tidak dikenal; kolom ini dikosongkan.") % {
        "value": _quote(cell),
        "column": column,
    }
    return None, issue(column, cell, "code_unknown", message, "warning")


C = choices
SEX = CodeList(
    C.Sex,
    {
        "L": ["LAKI-LAKI", "LAKI LAKI", "LAKI", "LK", "PRIA", "1", "M", "MALE"],
        "P": ["PR", "WANITA", "2", "F", "FEMALE"],
    },
)
RELATIONSHIP = CodeList(
    C.Relationship,
    {
        "KEPALA_KELUARGA": ["KEPALA KELUARGA", "KK", "KEPALA RUMAH TANGGA", "KRT", "KEPALA"],
        "ISTRI_SUAMI": ["ISTRI", "SUAMI", "ISTRI/SUAMI", "SUAMI/ISTRI", "ISTERI", "PASANGAN"],
        "ANAK": ["ANAK", "ANAK KANDUNG", "ANAK ANGKAT", "ANAK TIRI"],
        "ORANG_TUA": ["ORANG TUA", "ORANGTUA", "AYAH", "IBU", "ORANG TUA/MERTUA"],
        "FAMILI_LAIN": ["FAMILI LAIN", "FAMILI", "SAUDARA", "KERABAT"],
        "LAINNYA": ["PEMBANTU", "PEMBANTU RUMAH TANGGA", "LAINNYA", "LAIN-LAIN", "LAIN LAIN"],
    },
    [("ANAK", "ANAK"), ("FAMILI", "FAMILI_LAIN")],
)
MARITAL_STATUS = CodeList(
    C.MaritalStatus,
    {
        "BELUM_KAWIN": ["BELUM KAWIN", "BELUM MENIKAH", "TIDAK KAWIN", "LAJANG"],
        "KAWIN": ["KAWIN", "KAWIN/NIKAH", "MENIKAH", "NIKAH", "KAWIN TERCATAT", "KAWIN BELUM TERCATAT"],
        "CERAI_HIDUP": ["CERAI HIDUP", "CERAI"],
        "CERAI_MATI": ["CERAI MATI"],
    },
    [("BELUMKAWIN", "BELUM_KAWIN"), ("CERAIHIDUP", "CERAI_HIDUP"), ("CERAIMATI", "CERAI_MATI"), ("KAWIN", "KAWIN")],
)
EDUCATION = CodeList(
    C.Education,
    {
        "TIDAK_SEKOLAH": ["TIDAK/BELUM SEKOLAH", "TIDAK SEKOLAH", "BELUM SEKOLAH", "TIDAK PERNAH SEKOLAH"],
        "BELUM_TAMAT_SD": [
            "BELUM TAMAT SD/SEDERAJAT", "TIDAK TAMAT SD/SEDERAJAT", "TIDAK TAMAT SD", "BELUM TAMAT SD",
            "SISWA SD/SEDERAJAT", "SISWA SD", "TIDAK/BELUM TAMAT SD",
        ],
        "SD": ["TAMAT SD/SEDERAJAT", "SD/SEDERAJAT", "SD", "SD/MI", "TAMAT SD", "SISWA SMP/SEDERAJAT", "SISWA SMP"],
        "SMP": [
            "SLTP/SEDERAJAT", "SMP/SEDERAJAT", "TAMAT SMP/SEDERAJAT", "TAMAT SLTP/SEDERAJAT", "SMP", "SLTP", "SMP/MTS",
            "SISWA SMA/SEDERAJAT", "SISWA SMA",
        ],
        "SMA": [
            "SLTA/SEDERAJAT", "SMA/SEDERAJAT", "TAMAT SMA/SEDERAJAT", "TAMAT SLTA/SEDERAJAT", "SMA", "SMK", "SLTA",
            "SMA/SMK/MA", "MAHASISWA PERGURUAN TINGGI", "MAHASISWA",
        ],
        "D1_D2": ["DIPLOMA I/II", "DIPLOMA I", "DIPLOMA II", "D1", "D2", "D1/D2"],
        "D3": ["AKADEMI/DIPLOMA III/SARJANA MUDA", "AKADEMI/DIPLOMA III/S. MUDA", "DIPLOMA III", "D3", "AKADEMI"],
        # "Tamat perguruan tinggi" (P3KE's coarse level) is taken as a bachelor's degree.
        "S1_D4": [
            "DIPLOMA IV/STRATA I", "DIPLOMA IV/S1", "STRATA I", "S1", "D4", "SARJANA", "TAMAT PERGURUAN TINGGI",
        ],
        "S2": ["STRATA II", "S2", "MAGISTER"],
        "S3": ["STRATA III", "S3", "DOKTOR"],
    },
)  # fmt: skip
WORK_STATUS = CodeList(
    C.WorkStatus,
    {
        "TIDAK_BEKERJA": ["TIDAK BEKERJA", "TIDAK/BELUM BEKERJA", "BELUM BEKERJA", "BELUM/TIDAK BEKERJA"],
        "BERUSAHA_SENDIRI": ["BERUSAHA SENDIRI"],
        "BERUSAHA_DIBANTU": ["BERUSAHA DIBANTU BURUH", "BERUSAHA DIBANTU"],
        "BURUH_KARYAWAN": ["BURUH/KARYAWAN/PEGAWAI", "BURUH/KARYAWAN/PEGAWAI SWASTA", "BURUH", "KARYAWAN", "PEGAWAI"],
        "PEKERJA_BEBAS": ["PEKERJA BEBAS", "PEKERJA BEBAS PERTANIAN", "PEKERJA BEBAS NON PERTANIAN"],
        "PEKERJA_KELUARGA": ["PEKERJA KELUARGA/TIDAK DIBAYAR", "PEKERJA KELUARGA", "PEKERJA TIDAK DIBAYAR"],
    },
    [
        ("BERUSAHA DIBANTU", "BERUSAHA_DIBANTU"),
        ("BERUSAHA SENDIRI", "BERUSAHA_SENDIRI"),
        ("BURUH", "BURUH_KARYAWAN"),
        ("KARYAWAN", "BURUH_KARYAWAN"),
        ("PEGAWAI", "BURUH_KARYAWAN"),
        ("PNS", "BURUH_KARYAWAN"),
        ("PEKERJA BEBAS", "PEKERJA_BEBAS"),
        ("PEKERJA KELUARGA", "PEKERJA_KELUARGA"),
        ("TIDAK BEKERJA", "TIDAK_BEKERJA"),
        ("BELUM BEKERJA", "TIDAK_BEKERJA"),
    ],
)
DISABILITY = CodeList(
    C.Disability,
    {
        "TIDAK_ADA": ["TIDAK ADA", "TIDAK", "BUKAN PENYANDANG DISABILITAS", "TIDAK CACAT", "NORMAL"],
        "FISIK": ["FISIK", "TUNA DAKSA", "TUNA DAKSA/CACAT TUBUH", "CACAT TUBUH", "CACAT FISIK", "DISABILITAS FISIK"],
        "NETRA": ["NETRA", "TUNA NETRA", "TUNA NETRA/BUTA", "BUTA", "DISABILITAS NETRA"],
        "RUNGU_WICARA": [
            "RUNGU", "WICARA", "TUNA RUNGU", "TUNA WICARA", "TUNA RUNGU & WICARA", "TUNA RUNGU/WICARA",
            "RUNGU/WICARA", "RUNGU WICARA", "DISABILITAS RUNGU/WICARA",
        ],
        "MENTAL": ["MENTAL", "JIWA", "MANTAN PENDERITA GANGGUAN JIWA", "GANGGUAN JIWA", "DISABILITAS MENTAL/JIWA"],
        "INTELEKTUAL": ["INTELEKTUAL", "CACAT MENTAL RETARDASI", "RETARDASI MENTAL", "DISABILITAS INTELEKTUAL"],
        "GANDA": [
            "GANDA", "CACAT GANDA", "CACAT FISIK & MENTAL", "TUNA NETRA & CACAT TUBUH", "TUNA NETRA, RUNGU & WICARA",
            "TUNA RUNGU, WICARA & CACAT TUBUH", "DISABILITAS GANDA",
        ],
    },
)  # fmt: skip
HOUSE_OWNERSHIP = CodeList(
    C.HouseOwnership,
    {
        "MILIK_SENDIRI": ["MILIK SENDIRI", "SENDIRI", "RUMAH SENDIRI"],
        "KONTRAK_SEWA": ["KONTRAK/SEWA", "KONTRAK", "SEWA", "SEWA/KONTRAK"],
        "BEBAS_SEWA": ["BEBAS SEWA", "MENUMPANG", "NUMPANG", "BEBAS SEWA/MENUMPANG"],
        "DINAS": ["DINAS", "RUMAH DINAS"],
    },
    [
        ("BEBAS SEWA", "BEBAS_SEWA"),
        ("KONTRAK", "KONTRAK_SEWA"),
        ("SEWA", "KONTRAK_SEWA"),
        ("MILIK SENDIRI", "MILIK_SENDIRI"),
    ],
)
ROOF_TYPE = CodeList(
    C.RoofType,
    {
        "BETON": ["BETON", "BETON/GENTENG BETON"],
        "GENTENG": ["GENTENG", "GENTENG KERAMIK", "GENTENG METAL", "GENTENG TANAH LIAT", "GENTING"],
        "KAYU_SIRAP": ["KAYU/SIRAP", "SIRAP", "KAYU"],
        "JERAMI_IJUK_RUMBIA": ["JERAMI/IJUK/DAUN-DAUNAN/RUMBIA", "JERAMI", "IJUK", "RUMBIA", "DAUN", "DAUN-DAUNAN"],
    },
    [("BETON", "BETON"), ("GENTENG", "GENTENG"), ("GENTING", "GENTENG"), ("SENG", "SENG"), ("ASBES", "ASBES"),
     ("KAYU", "KAYU_SIRAP"), ("SIRAP", "KAYU_SIRAP"), ("JERAMI", "JERAMI_IJUK_RUMBIA"), ("IJUK", "JERAMI_IJUK_RUMBIA"),
     ("DAUN", "JERAMI_IJUK_RUMBIA"), ("RUMBIA", "JERAMI_IJUK_RUMBIA")],
)  # fmt: skip
WALL_TYPE = CodeList(
    C.WallType,
    {
        "TEMBOK": ["TEMBOK", "TEMBOK/BATA", "BATA", "BATAKO"],
        "PLESTERAN_ANYAMAN_BAMBU": ["PLESTERAN ANYAMAN BAMBU/KAWAT", "PLESTERAN ANYAMAN BAMBU"],
        "KAYU_PAPAN": ["KAYU/PAPAN", "KAYU", "PAPAN", "KAYU/PAPAN/GYPSUM/GRC/CALCIBOARD"],
        "ANYAMAN_BAMBU": ["ANYAMAN BAMBU", "GEDEK", "BILIK"],
    },
    [("TEMBOK", "TEMBOK"), ("PLESTERAN", "PLESTERAN_ANYAMAN_BAMBU"), ("KAYU PAPAN", "KAYU_PAPAN"),
     ("ANYAMAN BAMBU", "ANYAMAN_BAMBU"), ("BATANG KAYU", "BATANG_KAYU")],
)  # fmt: skip
FLOOR_TYPE = CodeList(
    C.FloorType,
    {
        "MARMER_GRANIT": ["MARMER/GRANIT", "MARMER", "GRANIT"],
        "PARKET_VINIL": ["PARKET/VINIL/KARPET", "PARKET/VINIL/PERMADANI", "PARKET", "VINIL", "KARPET"],
        "UBIN_TEGEL": ["UBIN/TEGEL/TERASO", "UBIN", "TEGEL", "TERASO", "UBIN/TEGEL"],
        "KAYU_PAPAN": ["KAYU/PAPAN", "KAYU", "PAPAN"],
        "SEMEN_BATA": ["SEMEN/BATA MERAH", "SEMEN", "BATA MERAH", "PLESTERAN", "SEMEN/PLESTERAN"],
    },
    [("MARMER", "MARMER_GRANIT"), ("GRANIT", "MARMER_GRANIT"), ("KERAMIK", "KERAMIK"), ("PARKET", "PARKET_VINIL"),
     ("UBIN", "UBIN_TEGEL"), ("TEGEL", "UBIN_TEGEL"), ("KAYU", "KAYU_PAPAN"), ("SEMEN", "SEMEN_BATA"),
     ("BATA", "SEMEN_BATA")],
)  # fmt: skip
_QUALITY_GOOD = ["BAIK", "BAGUS", "BAGUS/KUALITAS TINGGI", "BAIK/BAGUS", "KUALITAS TINGGI", "TINGGI", "LAYAK"]
_QUALITY_POOR = ["JELEK", "RUSAK", "JELEK/KUALITAS RENDAH", "JELEK/RUSAK", "KUALITAS RENDAH", "RENDAH", "TIDAK LAYAK"]
BUILDING_QUALITY = CodeList(
    C.BuildingQuality,
    {"BAIK": _QUALITY_GOOD, "JELEK": _QUALITY_POOR},
    [("BAGUS", "BAIK"), ("BAIK", "BAIK"), ("JELEK", "JELEK"), ("RUSAK", "JELEK")],
)
LIGHTING_SOURCE = CodeList(
    C.LightingSource,
    {
        "PLN_METERAN": ["LISTRIK PLN DENGAN METERAN", "LISTRIK PLN METERAN", "PLN DENGAN METERAN", "PLN METERAN"],
        "PLN_TANPA_METERAN": ["LISTRIK PLN TANPA METERAN", "PLN TANPA METERAN"],
        "LISTRIK_NON_PLN": ["LISTRIK NON PLN", "LISTRIK NON-PLN", "NON PLN", "LISTRIK BUKAN PLN"],
        "BUKAN_LISTRIK": ["BUKAN LISTRIK", "TIDAK ADA LISTRIK", "PELITA/SENTIR/OBOR", "PETROMAKS"],
    },
)
POWER_CAPACITY = CodeList(
    C.PowerCapacity,
    {
        "450": ["450 WATT", "450 VA", "450"],
        "900": ["900 WATT", "900 VA", "900"],
        "1300": ["1.300 WATT", "1300 WATT", "1300 VA", "1300"],
        "2200": ["2.200 WATT", "2200 WATT", "2200 VA", "2200"],
        "LEBIH_2200": ["> 2.200 WATT", "LEBIH DARI 2.200 WATT", "> 2200 VA", "DI ATAS 2.200 WATT", "3500", "4400"],
        "TANPA_METERAN": ["TANPA METERAN", "TIDAK ADA METERAN"],
    },
    [("LEBIH", "LEBIH_2200")],
)
COOKING_FUEL = CodeList(
    C.CookingFuel,
    {
        "ELPIJI_5_5KG_LEBIH": [
            "ELPIJI 5,5 KG ATAU LEBIH", "GAS ELPIJI 5,5 KG/BLUE GAZ", "ELPIJI 5,5 KG", "GAS ELPIJI 12 KG",
            "ELPIJI 12 KG", "BLUE GAZ", "BRIGHT GAS",
        ],
        "ELPIJI_3KG": ["ELPIJI 3 KG", "GAS ELPIJI 3 KG", "LPG 3 KG", "GAS 3 KG", "LPG 3KG"],
        "GAS_KOTA": ["GAS KOTA/METERAN PGN", "GAS KOTA", "PGN"],
        "KAYU_BAKAR": ["KAYU BAKAR", "KAYU"],
        "TIDAK_MEMASAK": ["TIDAK MEMASAK DI RUMAH", "TIDAK MEMASAK"],
    },
    [("GAS ELPIJI 3", "ELPIJI_3KG"), ("ELPIJI 3", "ELPIJI_3KG"), ("LPG 3", "ELPIJI_3KG"),
     ("GAS ELPIJI 5", "ELPIJI_5_5KG_LEBIH"), ("ELPIJI 5", "ELPIJI_5_5KG_LEBIH"),
     ("GAS ELPIJI 12", "ELPIJI_5_5KG_LEBIH"), ("ELPIJI 12", "ELPIJI_5_5KG_LEBIH"), ("LPG 12", "ELPIJI_5_5KG_LEBIH"),
     ("LPG 5", "ELPIJI_5_5KG_LEBIH"),
     ("GAS KOTA", "GAS_KOTA"), ("KAYU", "KAYU_BAKAR"), ("TIDAK MEMASAK", "TIDAK_MEMASAK")],
)  # fmt: skip
WATER_SOURCE = CodeList(
    C.WaterSource,
    {
        "AIR_KEMASAN": ["AIR KEMASAN BERMERK", "AIR KEMASAN", "AIR MINERAL"],
        "AIR_ISI_ULANG": ["AIR ISI ULANG", "ISI ULANG"],
        "LEDENG": ["LEDING", "LEDENG", "LEDING/PDAM", "PDAM", "LEDING METERAN", "LEDING ECERAN", "PAM"],
        "SUMUR_BOR": ["SUMUR BOR/POMPA", "SUMUR BOR", "POMPA", "SUMUR POMPA"],
        "SUMUR_TAK_TERLINDUNG": ["SUMUR TAK TERLINDUNG", "SUMUR TIDAK TERLINDUNG"],
        "MATA_AIR_TAK_TERLINDUNG": ["MATA AIR TAK TERLINDUNG", "MATA AIR TIDAK TERLINDUNG"],
        "AIR_PERMUKAAN": ["AIR PERMUKAAN (SUNGAI/DANAU/WADUK/KOLAM/IRIGASI)", "AIR PERMUKAAN", "SUNGAI", "AIR SUNGAI"],
    },
    [("AIR KEMASAN", "AIR_KEMASAN"), ("AIR ISI ULANG", "AIR_ISI_ULANG"), ("LEDING", "LEDENG"), ("LEDENG", "LEDENG"),
     ("SUMUR BOR", "SUMUR_BOR"), ("SUMUR TAK", "SUMUR_TAK_TERLINDUNG"), ("SUMUR TIDAK", "SUMUR_TAK_TERLINDUNG"),
     ("SUMUR TERLINDUNG", "SUMUR_TERLINDUNG"), ("MATA AIR TAK", "MATA_AIR_TAK_TERLINDUNG"),
     ("MATA AIR TIDAK", "MATA_AIR_TAK_TERLINDUNG"), ("MATA AIR TERLINDUNG", "MATA_AIR_TERLINDUNG"),
     ("AIR PERMUKAAN", "AIR_PERMUKAAN"), ("AIR SUNGAI", "AIR_PERMUKAAN"), ("AIR HUJAN", "AIR_HUJAN")],
)  # fmt: skip
TOILET_FACILITY = CodeList(
    C.ToiletFacility,
    {
        # "Memiliki fasilitas BAB: Ya/Tidak" (older exports): Ya = own facility.
        "SENDIRI": ["SENDIRI", "MILIK SENDIRI", "ADA, MILIK SENDIRI", "ADA, DIGUNAKAN HANYA ANGGOTA KELUARGA SENDIRI",
                    "YA", "ADA"],
        "BERSAMA": ["BERSAMA", "ADA, BERSAMA RUMAH TANGGA LAIN", "MCK KOMUNAL", "ADA, DI MCK KOMUNAL", "KOMUNAL",
                    "ADA, DIGUNAKAN BERSAMA ANGGOTA KELUARGA DARI KELUARGA TERTENTU"],
        "UMUM": ["UMUM", "MCK UMUM", "ADA, DI MCK UMUM/SIAPAPUN MENGGUNAKAN", "MCK UMUM/SIAPAPUN MENGGUNAKAN"],
        "TIDAK_ADA": ["TIDAK ADA", "TIDAK", "TIDAK ADA FASILITAS", "TIDAK MEMILIKI"],
    },
    [("ADA DIGUNAKAN HANYA", "SENDIRI"), ("ADA DIGUNAKAN BERSAMA", "BERSAMA"), ("ADA DI MCK KOMUNAL", "BERSAMA"),
     ("ADA DI MCK UMUM", "UMUM"), ("TIDAK ADA", "TIDAK_ADA")],
)  # fmt: skip
VERIFICATION_PRIORITY = CodeList(
    C.VerificationPriority,
    {
        "TIDAK": ["TIDAK", "TIDAK PERLU VERVAL", "BUKAN PRIORITAS"],
        "NIK_DUPLIKAT": ["NIK DUPLIKAT", "DUPLIKAT NIK", "NIK GANDA"],
        "KELUARGA_NIK_KOSONG": ["KELUARGA NIK KOSONG", "KELUARGA DENGAN NIK KOSONG", "NIK KOSONG"],
        # A plain "Ya" (needs verval, no reason given) is kept as "other".
        "LAINNYA": ["LAINNYA", "YA"],
    },
)
_TRUE_WORDS = (
    "YA", "Y", "IYA", "ADA", "YES", "1", "TRUE", "BENAR", "BERISIKO", "BERESIKO", "RESIKO", "RISIKO",
    "BERISIKO STUNTING", "BERESIKO STUNTING", "RESIKO STUNTING", "RISIKO STUNTING", "MEMILIKI", "PUNYA",
    "PENERIMA", "MENERIMA",
)  # fmt: skip
_FALSE_WORDS = (
    "TIDAK", "T", "TDK", "TIDAK ADA", "N", "NO", "0", "FALSE", "SALAH", "TIDAK BERISIKO", "TIDAK BERESIKO",
    "TIDAK BERISIKO STUNTING", "TIDAK BERESIKO STUNTING", "TIDAK MEMILIKI", "TIDAK PUNYA", "BUKAN PENERIMA",
    "TIDAK MENERIMA", "BUKAN",
)  # fmt: skip
_BOOL_TABLE: dict[str, bool] = {code_key(w): True for w in _TRUE_WORDS} | {code_key(w): False for w in _FALSE_WORDS}


def parse_bool(cell: Cell, column: str) -> Result:
    """Ya/Tidak flag (``YA``, ``TIDAK``, ``Y``/``T``, ``1``/``0``, TRUE/FALSE cells) -> bool."""
    if isinstance(cell, bool):
        return cell, None
    if is_blank(cell):
        return None, None
    value = _BOOL_TABLE.get(code_key(cell_text(cell)))
    if value is not None:
        return value, None
    message = _("Nilai “%(value)s” pada kolom “%(column)s” bukan Ya/Tidak; kolom ini dikosongkan.") % {
        "value": _quote(cell),
        "column": column,
    }
    return None, issue(column, cell, "code_unknown", message, "warning")


def parse_sex(cell: Cell, column: str) -> Result:
    """Jenis kelamin: ``LAKI-LAKI``/``PEREMPUAN``/``L``/``P``/``1``/``2`` -> ``L``/``P``."""
    return _code_value(SEX, cell, column)


def parse_relationship(cell: Cell, column: str) -> Result:
    return _code_value(RELATIONSHIP, cell, column)


def parse_marital_status(cell: Cell, column: str) -> Result:
    return _code_value(MARITAL_STATUS, cell, column)


def parse_education(cell: Cell, column: str) -> Result:
    return _code_value(EDUCATION, cell, column)


def parse_work_status(cell: Cell, column: str) -> Result:
    return _code_value(WORK_STATUS, cell, column)


def parse_disability(cell: Cell, column: str) -> Result:
    return _code_value(DISABILITY, cell, column)


def parse_house_ownership(cell: Cell, column: str) -> Result:
    return _code_value(HOUSE_OWNERSHIP, cell, column)


def parse_roof_type(cell: Cell, column: str) -> Result:
    return _code_value(ROOF_TYPE, cell, column)


def parse_wall_type(cell: Cell, column: str) -> Result:
    return _code_value(WALL_TYPE, cell, column)


def parse_floor_type(cell: Cell, column: str) -> Result:
    return _code_value(FLOOR_TYPE, cell, column)


def parse_building_quality(cell: Cell, column: str) -> Result:
    return _code_value(BUILDING_QUALITY, cell, column)


def parse_lighting_source(cell: Cell, column: str) -> Result:
    return _code_value(LIGHTING_SOURCE, cell, column)


def parse_power_capacity(cell: Cell, column: str) -> Result:
    return _code_value(POWER_CAPACITY, cell, column)


def parse_cooking_fuel(cell: Cell, column: str) -> Result:
    return _code_value(COOKING_FUEL, cell, column)


def parse_water_source(cell: Cell, column: str) -> Result:
    return _code_value(WATER_SOURCE, cell, column)


def parse_toilet_facility(cell: Cell, column: str) -> Result:
    return _code_value(TOILET_FACILITY, cell, column)


def parse_verification_priority(cell: Cell, column: str) -> Result:
    return _code_value(VERIFICATION_PRIORITY, cell, column)


# ----------------------------------------------------------------------------------------------------------
# Intervention uploads (a program's deliveries)


def parse_recipient_nik(cell: Cell, column: str) -> Result:
    """The NIK that identifies a delivery's household: blank is fine (the ID Keluarga may be given), anything
    else must be a structurally valid NIK written as text, or the row is rejected (it would find no one)."""
    if is_blank(cell):  # before parse_nik: its "NIK kosong" warning would be built (and translated) per row
        return None, None
    (nik, status, _note), found = parse_nik(cell, column)
    if status == NIK_MISSING:
        return None, None
    if nik is not None and status == NIK_VALID:
        return nik, None
    assert found is not None
    return None, CellIssue(found.column, found.value, found.code, found.message, "error")


def _amount_issue(cell: Cell, column: str) -> CellIssue:
    message = _("Angka “%(value)s” tidak dikenali; tulis tanpa huruf, mis. 300000.") % {"value": _quote(cell)}
    return issue(column, cell, "number_invalid", message)


_AMOUNT_DROP = str.maketrans("", "", " \u00a0")


def parse_amount(cell: Cell, column: str) -> Result:
    """A money amount or a quantity -> ``Decimal`` (sign kept: the delivery rules refuse negatives with their
    own message). Text like ``Rp 1.500.000``, ``1,500,000`` or ``2,5`` is read the Indonesian way."""
    if _is_number(cell):
        try:
            return Decimal(str(cell)), None
        except InvalidOperation:
            return None, _amount_issue(cell, column)
    if is_blank(cell):
        return None, None
    text = cell_text(cell).translate(_AMOUNT_DROP)
    upper = text.upper()
    if upper.startswith("RP"):
        text = text[2:].lstrip(".")
    negative = text.startswith("-")
    text = text.lstrip("+-")
    if text.count(",") == 1 and (text.count(".") > 1 or (text.count(".") == 1 and text.index(".") < text.index(","))):
        text = text.replace(".", "").replace(",", ".")  # 1.500.000,50
    elif text.count(".") > 1 or (text.count(".") == 1 and len(text.rpartition(".")[2]) == 3 and "," not in text):
        text = text.replace(".", "")  # 1.500.000 / 300.000 (thousands)
    elif text.count(",") > 1 or (text.count(",") == 1 and len(text.rpartition(",")[2]) == 3):
        text = text.replace(",", "")  # 1,500,000
    else:
        text = text.replace(",", ".")  # 2,5
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, _amount_issue(cell, column)
    if not value.is_finite():
        return None, _amount_issue(cell, column)
    return (-value if negative else value), None


# Delivery statuses as ``programs.models.InterventionStatus`` codes (kept as text here: cells stays pure).
_DELIVERY_STATUS: dict[str, str] = {
    code_key(word): code
    for code, words in {
        "delivered": ("delivered", "Tersalurkan", "Tersalur", "Salur", "Sudah", "Diterima", "Selesai", "Terealisasi"),
        "planned": ("planned", "Direncanakan", "Rencana", "Belum", "Belum Tersalurkan"),
        "cancelled": ("cancelled", "Dibatalkan", "Batal"),
    }.items()
    for word in words
}


def parse_delivery_status(cell: Cell, column: str) -> Result:
    """Tersalurkan / Direncanakan (blank: tersalurkan). A new delivery cannot be recorded as cancelled."""
    if is_blank(cell):
        return None, None
    code = _DELIVERY_STATUS.get(code_key(cell_text(cell)))
    if code == "cancelled":
        message = _("Penyaluran baru tidak dapat langsung berstatus dibatalkan.")
        return None, issue(column, cell, "invalid_status", message)
    if code is None:
        message = _("Status “%(value)s” tidak dikenal; gunakan Tersalurkan atau Direncanakan.") % {
            "value": _quote(cell)
        }
        return None, issue(column, cell, "invalid_status", message)
    return code, None


# Parsers whose result depends only on the cell (few distinct values per column): mapping memoizes them.
LOW_CARDINALITY: frozenset[Parser] = frozenset(
    {
        parse_sex, parse_relationship, parse_marital_status, parse_education, parse_work_status, parse_disability,
        parse_house_ownership, parse_roof_type, parse_wall_type, parse_floor_type, parse_building_quality,
        parse_lighting_source, parse_power_capacity, parse_cooking_fuel, parse_water_source, parse_toilet_facility,
        parse_verification_priority, parse_bool, parse_desil, parse_persentil, parse_region_code, parse_rt_rw,
        parse_amount, parse_delivery_status,
    }
)  # fmt: skip
