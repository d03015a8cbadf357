"""Indonesian identifiers: Kemendagri region codes, NIK and No KK.

Pure functions, shared by forms, the API, the admin and (later) the import engine's cell parsers.
NIK parsing comes from lokal-id; a No KK has the same layout with an issue date instead of a birth date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import lokal
from django.utils.translation import gettext as _
from lokal.samaran.core import partial_mask

REGION_LEVEL_BY_LENGTH = {2: 1, 4: 2, 6: 3, 10: 4}
_REGION_DOTTED = re.compile(r"^[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?$")
_REGION_PLAIN = re.compile(r"^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{10})$")
_SIXTEEN_DIGITS = re.compile(r"^[0-9]{16}$")
_SEPARATORS = re.compile(r"[\s.\-]")


class IdentifierError(ValueError):
    """A malformed identifier; ``message`` is shown to the user in Bahasa Indonesia."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def normalize_region_code(value: str) -> str:
    """``33.24.01.2001`` or ``3324012001`` -> ``3324012001``; raises IdentifierError otherwise."""
    text = (value or "").strip()
    if not text:
        raise IdentifierError(_("Kode wilayah kosong."), "region_empty")
    if _REGION_DOTTED.match(text):
        return text.replace(".", "")
    if _REGION_PLAIN.match(text):
        return text
    raise IdentifierError(
        _(
            "Kode wilayah “%(value)s” tidak sah: gunakan kode Kemendagri 2, 4, 6 atau 10 digit "
            "(mis. 33.24.01.2001 atau 3324012001)."
        )
        % {"value": text},
        "region_format",
    )


def dotted_region_code(code: str) -> str:
    """``3324012001`` -> ``33.24.01.2001``."""
    parts = [code[:2], code[2:4], code[4:6], code[6:10]]
    return ".".join(p for p in parts if p)


def region_level(code: str) -> int:
    return REGION_LEVEL_BY_LENGTH[len(normalize_region_code(code))]


def clean_digits(value: str) -> str:
    """Strip what spreadsheets add around a number kept as text: spaces, dots, dashes, a leading apostrophe."""
    return _SEPARATORS.sub("", (value or "").strip().lstrip("'"))


@dataclass(frozen=True)
class IdentifierCheck:
    value: str | None
    error: str | None
    code: str | None

    @property
    def valid(self) -> bool:
        return self.error is None


def check_nik(raw: str, *, region_prefix: str | None = None) -> IdentifierCheck:
    """Structural NIK check (16 digits, known province, birth date with +40 for women, serial not 0000).

    ``region_prefix`` (a 2/4-digit region code) adds the check that the NIK was issued in that region;
    it is optional because people move between kabupaten and keep their NIK.
    """
    digits = clean_digits(raw)
    if not digits:
        return IdentifierCheck(None, _("NIK kosong."), "nik_empty")
    if not _SIXTEEN_DIGITS.match(digits):
        return IdentifierCheck(None, _("NIK harus terdiri dari 16 digit angka."), "nik_format")
    info = lokal.parse_nik(digits)
    if not info.valid:
        return IdentifierCheck(None, info.errors[0].message, f"nik_{info.errors[0].code}")
    if region_prefix and not digits.startswith(region_prefix):
        return IdentifierCheck(
            None,
            _("NIK %(masked)s tidak diterbitkan di wilayah %(region)s.")
            % {"masked": mask_identifier(digits), "region": dotted_region_code(region_prefix)},
            "nik_region",
        )
    return IdentifierCheck(digits, None, None)


def check_no_kk(raw: str) -> IdentifierCheck:
    """Structural No KK check: like a NIK, but the date is the issue date (no +40)."""
    digits = clean_digits(raw)
    if not digits:
        return IdentifierCheck(None, _("Nomor KK kosong."), "kk_empty")
    if not _SIXTEEN_DIGITS.match(digits):
        return IdentifierCheck(None, _("Nomor KK harus terdiri dari 16 digit angka."), "kk_format")
    if digits[:2] not in lokal.PROVINCES:
        return IdentifierCheck(
            None, _("Kode provinsi “%(code)s” pada Nomor KK tidak dikenal.") % {"code": digits[:2]}, "kk_province"
        )
    if digits[2:4] == "00" or digits[4:6] == "00":
        return IdentifierCheck(None, _("Kode kabupaten/kecamatan pada Nomor KK tidak boleh 00."), "kk_region")
    day, month, year = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    try:
        dt.date(2000 + year, month, day)
    except ValueError:
        return IdentifierCheck(None, _("Tanggal terbit pada Nomor KK tidak valid."), "kk_date")
    if digits[12:] == "0000":
        return IdentifierCheck(None, _("Nomor urut Nomor KK tidak boleh 0000."), "kk_serial")
    return IdentifierCheck(digits, None, None)


def mask_identifier(value: str | None) -> str:
    """``3324015501900001`` -> ``3324********0001``; empty stays empty."""
    if not value:
        return ""
    return partial_mask("NIK", value)
