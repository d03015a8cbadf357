"""Region codes, NIK and No KK: every well-formed value accepted and normalised, every malformed kind
rejected with its code and exact Indonesian message."""

from __future__ import annotations

import datetime as dt
import string

import lokal
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from tkpk.identifiers import (
    IdentifierError,
    check_nik,
    check_no_kk,
    clean_digits,
    dotted_region_code,
    mask_identifier,
    normalize_region_code,
    region_level,
)

REGION_FORMAT_MESSAGE = (
    "Kode wilayah “{value}” tidak sah: gunakan kode Kemendagri 2, 4, 6 atau 10 digit "
    "(mis. 33.24.01.2001 atau 3324012001)."
)
NIK_FORMAT_MESSAGE = "NIK harus terdiri dari 16 digit angka."
KK_FORMAT_MESSAGE = "Nomor KK harus terdiri dari 16 digit angka."

KNOWN_PROVINCES = sorted(lokal.PROVINCES)
UNKNOWN_PROVINCES = [f"{n:02d}" for n in range(100) if f"{n:02d}" not in lokal.PROVINCES]

ascii_digits = st.text(alphabet=string.digits, min_size=1, max_size=1)


def digit_strings(length: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=string.digits, min_size=length, max_size=length)


# ------------------------------------------------------------------------------------------ region codes


def dot(code: str) -> str:
    return ".".join(p for p in (code[:2], code[2:4], code[4:6], code[6:]) if p)


@given(
    code=st.sampled_from([2, 4, 6, 10]).flatmap(digit_strings),
    dotted=st.booleans(),
    pad=st.sampled_from(["", " ", "\t"]),
)
@example(code="3324012001", dotted=True, pad="")
def test_normalize_region_code_accepts_plain_and_dotted_codes(code: str, dotted: bool, pad: str) -> None:
    written = dot(code) if dotted else code
    assert normalize_region_code(f"{pad}{written}{pad}") == code


@given(code=st.sampled_from([2, 4, 6, 10]).flatmap(digit_strings))
def test_dotted_region_code_round_trips(code: str) -> None:
    dotted = dotted_region_code(code)
    assert dotted == dot(code)
    assert normalize_region_code(dotted) == code
    assert region_level(dotted) == {2: 1, 4: 2, 6: 3, 10: 4}[len(code)]


def assert_region_rejected(value: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        normalize_region_code(value)
    assert caught.value.code == "region_format"
    assert caught.value.message == REGION_FORMAT_MESSAGE.format(value=value.strip())
    assert str(caught.value) == caught.value.message


@given(code=st.integers(min_value=1, max_value=20).filter(lambda n: n not in (2, 4, 6, 10)).flatmap(digit_strings))
def test_normalize_region_code_rejects_wrong_lengths(code: str) -> None:
    assert_region_rejected(code)


@given(
    code=st.sampled_from([2, 4, 6, 10]).flatmap(digit_strings),
    position=st.integers(min_value=0, max_value=9),
    letter=st.sampled_from(string.ascii_letters + "/_,+"),
    dotted=st.booleans(),
)
def test_normalize_region_code_rejects_letters_and_symbols(code: str, position: int, letter: str, dotted: bool) -> None:
    position = position % len(code)
    broken = code[:position] + letter + code[position + 1 :]
    assert_region_rejected(dot(broken) if dotted else broken)


@given(code=st.sampled_from([4, 6, 10]).flatmap(digit_strings), data=st.data())
def test_normalize_region_code_rejects_bad_dot_placement(code: str, data: st.DataObject) -> None:
    # Any dot layout other than 2.2.2.4 is wrong: shifted dots, doubled dots, leading or trailing dots.
    gaps = [False] * (len(code) - 1)
    for i in data.draw(st.sets(st.integers(min_value=0, max_value=len(code) - 2), min_size=1)):
        gaps[i] = True
    written = code[0] + "".join(("." if gap else "") + ch for gap, ch in zip(gaps, code[1:], strict=True))
    assume(written != dot(code))
    assert_region_rejected(written)


@pytest.mark.parametrize(
    "value",
    [
        "33.",
        ".33",
        "33..24",
        "33.24.",
        "332.4",
        "3.324",
        "33.24.012001",
        "3324.01.2001",
        "33.24.01.201",
        "33.24.01.20011",
        "33.24.01.20.01",
        "33-24",
        "33 24",
        "33,24",
    ],
)
def test_normalize_region_code_rejects_listed_malformed_codes(value: str) -> None:
    assert_region_rejected(value)


@pytest.mark.parametrize("value", ["", "   ", "\t\n", None])
def test_normalize_region_code_rejects_empty(value: str | None) -> None:
    with pytest.raises(IdentifierError) as caught:
        normalize_region_code(value)  # type: ignore[arg-type]
    assert caught.value.code == "region_empty"
    assert caught.value.message == "Kode wilayah kosong."


def test_normalize_region_code_rejects_non_ascii_digits() -> None:
    assert_region_rejected("٣٣.٢٤")


# ---------------------------------------------------------------------------------------------- NIK


@st.composite
def valid_niks(draw: st.DrawFn) -> tuple[str, dt.date, str]:
    """(nik, birth date, sex) with a known province, non-00 kab/kec, a real date and serial != 0000."""
    province = draw(st.sampled_from(KNOWN_PROVINCES))
    kabupaten = draw(st.integers(min_value=1, max_value=99))
    kecamatan = draw(st.integers(min_value=1, max_value=99))
    # 1930-2019: the two-digit year maps back to the same date (lokal infers the century).
    birth = draw(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2019, 12, 31)))
    sex = draw(st.sampled_from("LP"))
    serial = draw(st.integers(min_value=1, max_value=9999))
    day = birth.day + (40 if sex == "P" else 0)
    return f"{province}{kabupaten:02d}{kecamatan:02d}{day:02d}{birth:%m%y}{serial:04d}", birth, sex


@st.composite
def spreadsheet_forms(draw: st.DrawFn, digits: str) -> str:
    """``digits`` as it may arrive from a spreadsheet: separators between digits, a leading apostrophe,
    surrounding whitespace."""
    separators = draw(st.lists(st.sampled_from(["", "", " ", ".", "-", "  "]), min_size=15, max_size=15))
    body = digits[0] + "".join(sep + ch for sep, ch in zip(separators, digits[1:], strict=True))
    apostrophe = draw(st.sampled_from(["", "'"]))
    pad = draw(st.sampled_from(["", " ", "\t"]))
    return f"{pad}{apostrophe}{body}{pad}"


@given(generated=valid_niks())
@example(generated=("3324015501900001", dt.date(1990, 1, 15), "P"))
def test_check_nik_accepts_valid_niks(generated: tuple[str, dt.date, str]) -> None:
    nik, birth, sex = generated
    check = check_nik(nik)
    assert check.valid, check.error
    assert (check.value, check.error, check.code) == (nik, None, None)
    # The generator agrees with lokal's reading of the number.
    info = lokal.parse_nik(nik)
    assert (info.birth_date, info.gender) == (birth.isoformat(), sex)


@given(data=st.data(), generated=valid_niks())
def test_check_nik_normalises_spreadsheet_forms(data: st.DataObject, generated: tuple[str, dt.date, str]) -> None:
    nik = generated[0]
    written = data.draw(spreadsheet_forms(nik))
    assert check_nik(written).value == nik


@pytest.mark.parametrize(
    "written", ["'3324015501900001", "3324 0155 0190 0001", "33.24.01.550190.0001", " 3324-0155-0190-0001 "]
)
def test_check_nik_normalises_listed_forms(written: str) -> None:
    assert check_nik(written).value == "3324015501900001"


@given(generated=valid_niks())
def test_check_nik_accepts_matching_region_prefix(generated: tuple[str, dt.date, str]) -> None:
    nik = generated[0]
    assert check_nik(nik, region_prefix=nik[:2]).value == nik
    assert check_nik(nik, region_prefix=nik[:4]).value == nik


def assert_nik_rejected(raw: str, code: str, message: str, **kwargs: str) -> None:
    check = check_nik(raw, **kwargs)
    assert not check.valid
    assert (check.value, check.code, check.error) == (None, code, message)


@given(length=st.integers(min_value=1, max_value=30).filter(lambda n: n != 16), data=st.data())
@example(length=15, data=None)  # a float-mangled NIK often comes out one digit short
def test_check_nik_rejects_wrong_length(length: int, data: st.DataObject | None) -> None:
    digits = "332401550190000123456789012345"[:length] if data is None else data.draw(digit_strings(length))
    assert_nik_rejected(digits, "nik_format", NIK_FORMAT_MESSAGE)


@given(generated=valid_niks(), position=st.integers(min_value=0, max_value=15), bad=st.sampled_from("OolIAbxE+e/,_*"))
def test_check_nik_rejects_non_digits(generated: tuple[str, dt.date, str], position: int, bad: str) -> None:
    nik = generated[0]
    assert_nik_rejected(nik[:position] + bad + nik[position + 1 :], "nik_format", NIK_FORMAT_MESSAGE)


def test_check_nik_rejects_float_notation() -> None:
    assert_nik_rejected("3.324015501900001e+15", "nik_format", NIK_FORMAT_MESSAGE)


@given(generated=valid_niks(), province=st.sampled_from(UNKNOWN_PROVINCES))
@example(generated=("3324015501900001", dt.date(1990, 1, 15), "P"), province="00")
def test_check_nik_rejects_unknown_province(generated: tuple[str, dt.date, str], province: str) -> None:
    nik = province + generated[0][2:]
    assert_nik_rejected(nik, "nik_province", f'Kode provinsi "{province}" tidak dikenal.')


@given(generated=valid_niks(), which=st.sampled_from(["kab", "kec"]))
def test_check_nik_rejects_zero_kabupaten_or_kecamatan(generated: tuple[str, dt.date, str], which: str) -> None:
    nik = generated[0]
    nik = nik[:2] + "00" + nik[4:] if which == "kab" else nik[:4] + "00" + nik[6:]
    assert_nik_rejected(nik, "nik_wilayah", "Kode kabupaten/kota dan kecamatan tidak boleh 00.")


def invalid_day_months() -> st.SearchStrategy[tuple[int, int]]:
    valid_month = st.integers(min_value=1, max_value=12)
    bad_day = st.sampled_from([0, *range(32, 41), *range(72, 100)])
    bad_month = st.sampled_from([0, *range(13, 100)])
    return st.one_of(
        st.tuples(bad_day, valid_month),
        st.tuples(st.integers(min_value=1, max_value=28).map(lambda d: d + st_sex_offset(d)), bad_month),
        st.sampled_from([(30, 2), (31, 2), (70, 2), (71, 2), (31, 4), (71, 6), (31, 9), (71, 11)]),
    )


def st_sex_offset(day: int) -> int:
    return 40 if day % 2 else 0


@given(generated=valid_niks(), day_month=invalid_day_months())
@example(generated=("3324015501900001", dt.date(1990, 1, 15), "P"), day_month=(0, 1))
def test_check_nik_rejects_invalid_birth_date(generated: tuple[str, dt.date, str], day_month: tuple[int, int]) -> None:
    nik = generated[0]
    day, month = day_month
    nik = f"{nik[:6]}{day:02d}{month:02d}{nik[10:]}"
    assert_nik_rejected(nik, "nik_birth_date", "Tanggal lahir di NIK tidak valid.")


@given(generated=valid_niks())
def test_check_nik_rejects_serial_0000(generated: tuple[str, dt.date, str]) -> None:
    nik = generated[0][:12] + "0000"
    assert_nik_rejected(nik, "nik_serial", "Nomor urut NIK tidak boleh 0000.")


@given(generated=valid_niks(), other=st.sampled_from(KNOWN_PROVINCES), kabupaten=st.integers(min_value=1, max_value=99))
def test_check_nik_rejects_region_prefix_mismatch(
    generated: tuple[str, dt.date, str], other: str, kabupaten: int
) -> None:
    nik = generated[0]
    prefix = f"{other}{kabupaten:02d}"
    assume(prefix != nik[:4])
    masked = f"{nik[:4]}********{nik[12:]}"
    dotted = f"{prefix[:2]}.{prefix[2:]}"
    assert_nik_rejected(nik, "nik_region", f"NIK {masked} tidak diterbitkan di wilayah {dotted}.", region_prefix=prefix)


def test_check_nik_region_mismatch_message_example() -> None:
    assert_nik_rejected(
        "3324015501900001",
        "nik_region",
        "NIK 3324********0001 tidak diterbitkan di wilayah 64.02.",
        region_prefix="6402",
    )


@pytest.mark.parametrize("raw", ["", "   ", "'", " ' ", "...", "- -", None])
def test_check_nik_rejects_empty(raw: str | None) -> None:
    assert_nik_rejected(raw, "nik_empty", "NIK kosong.")  # type: ignore[arg-type]


def test_check_nik_reports_the_first_problem_only() -> None:
    # Unknown province and serial 0000: the province is reported.
    assert check_nik("0024015501900000").code == "nik_province"


# --------------------------------------------------------------------------------------------- No KK


@st.composite
def valid_no_kks(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(KNOWN_PROVINCES))
    kabupaten = draw(st.integers(min_value=1, max_value=99))
    kecamatan = draw(st.integers(min_value=1, max_value=99))
    issued = draw(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)))
    serial = draw(st.integers(min_value=1, max_value=9999))
    return f"{province}{kabupaten:02d}{kecamatan:02d}{issued:%d%m%y}{serial:04d}"


def assert_kk_rejected(raw: str, code: str, message: str) -> None:
    check = check_no_kk(raw)
    assert not check.valid
    assert (check.value, check.code, check.error) == (None, code, message)


@given(no_kk=valid_no_kks())
@example(no_kk="3324010903150001")
def test_check_no_kk_accepts_valid_numbers(no_kk: str) -> None:
    assert (check_no_kk(no_kk).value, check_no_kk(no_kk).error) == (no_kk, None)


@given(data=st.data(), no_kk=valid_no_kks())
def test_check_no_kk_normalises_spreadsheet_forms(data: st.DataObject, no_kk: str) -> None:
    assert check_no_kk(data.draw(spreadsheet_forms(no_kk))).value == no_kk


@given(length=st.integers(min_value=1, max_value=30).filter(lambda n: n != 16), data=st.data())
def test_check_no_kk_rejects_wrong_length(length: int, data: st.DataObject) -> None:
    assert_kk_rejected(data.draw(digit_strings(length)), "kk_format", KK_FORMAT_MESSAGE)


@given(no_kk=valid_no_kks(), position=st.integers(min_value=0, max_value=15), bad=st.sampled_from("OolIAbxE+e/,_*"))
def test_check_no_kk_rejects_non_digits(no_kk: str, position: int, bad: str) -> None:
    assert_kk_rejected(no_kk[:position] + bad + no_kk[position + 1 :], "kk_format", KK_FORMAT_MESSAGE)


@given(no_kk=valid_no_kks(), province=st.sampled_from(UNKNOWN_PROVINCES))
def test_check_no_kk_rejects_unknown_province(no_kk: str, province: str) -> None:
    assert_kk_rejected(province + no_kk[2:], "kk_province", f"Kode provinsi “{province}” pada Nomor KK tidak dikenal.")


@given(
    no_kk=valid_no_kks(),
    day_month=st.one_of(
        st.tuples(st.sampled_from([0, *range(32, 100)]), st.integers(min_value=1, max_value=12)),
        st.tuples(st.integers(min_value=1, max_value=28), st.sampled_from([0, *range(13, 100)])),
        st.sampled_from([(30, 2), (31, 2), (31, 4), (31, 6), (31, 9), (31, 11)]),
    ),
)
@example(no_kk="3324010903150001", day_month=(41, 1))  # +40 belongs to a NIK, never to a No KK issue date
def test_check_no_kk_rejects_invalid_issue_date(no_kk: str, day_month: tuple[int, int]) -> None:
    day, month = day_month
    assert_kk_rejected(
        f"{no_kk[:6]}{day:02d}{month:02d}{no_kk[10:]}", "kk_date", "Tanggal terbit pada Nomor KK tidak valid."
    )


def test_check_no_kk_rejects_29_february_of_a_common_year() -> None:
    assert check_no_kk("3324012902230001").code == "kk_date"
    assert check_no_kk("3324012902240001").valid


@given(no_kk=valid_no_kks())
def test_check_no_kk_rejects_serial_0000(no_kk: str) -> None:
    assert_kk_rejected(no_kk[:12] + "0000", "kk_serial", "Nomor urut Nomor KK tidak boleh 0000.")


@pytest.mark.parametrize("raw", ["", "  ", "'", None])
def test_check_no_kk_rejects_empty(raw: str | None) -> None:
    assert_kk_rejected(raw, "kk_empty", "Nomor KK kosong.")  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["332401²903150001", "33٢٤٠١٠٩٠٣١٥٠٠٠١"])
def test_check_no_kk_rejects_non_ascii_digits(raw: str) -> None:
    assert_kk_rejected(raw, "kk_format", KK_FORMAT_MESSAGE)


@pytest.mark.parametrize("raw", ["332401²903150001", "33٢٤٠١٠٩٠٣١٥٠٠٠١"])
def test_check_nik_rejects_non_ascii_digits(raw: str) -> None:
    assert_nik_rejected(raw, "nik_format", NIK_FORMAT_MESSAGE)


# ------------------------------------------------------------------------------------------- masking


def test_mask_identifier_example() -> None:
    assert mask_identifier("3324015501900001") == "3324********0001"


@given(digits=digit_strings(16))
def test_mask_identifier_keeps_first_and_last_four(digits: str) -> None:
    assert mask_identifier(digits) == f"{digits[:4]}********{digits[12:]}"


@pytest.mark.parametrize("value", ["", None])
def test_mask_identifier_keeps_empty_empty(value: str | None) -> None:
    assert mask_identifier(value) == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("'3324 0155", "33240155"), (" 33.24-01 ", "332401"), ("''33", "33"), ("", ""), (None, "")],
)
def test_clean_digits(raw: str | None, expected: str) -> None:
    assert clean_digits(raw) == expected  # type: ignore[arg-type]
