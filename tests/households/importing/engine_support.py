"""Helpers for the engine tests: a stand-in parser fed with hand-built rows, jobs, registry snapshots.

The stand-in replaces ``engine.parse_file`` so the database side is tested with exact values; the real
parser (``mapping.parse_file``) is exercised end to end with the synthetic files in test_engine.py.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from households import choices
from households.importing import engine
from households.importing.types import CellIssue, ParsedRow
from households.models import (
    Household,
    HouseholdSourceLink,
    ImportFile,
    ImportJob,
    LinkageReview,
    Person,
    PersonSourceLink,
    RowError,
    Snapshot,
)
from tests.factories import load_kendal, make_nik, user_with_role
from tests.factories import source as source_row
from tkpk.models import Region
from tkpk.scoping import Role

KENDAL = "3324"
BLUMAH = "3324012001"  # Blumah, Plantungan
KEDITEN = "3324012002"  # Kediten, Plantungan
KUTAI = "6402"

HEADERS = {
    "id_keluarga": "ID Keluarga P3KE",
    "region_code": "Kode Kemendagri",
    "desa_name": "Desa/Kelurahan",
    "desil": "Desil Kesejahteraan",
    "head_name": "Nama Kepala Keluarga",
    "address": "Alamat",
    "id_individu": "ID Individu",
    "name": "Nama",
    "nik": "NIK",
    "sex": "Jenis Kelamin",
    "relationship": "Hubungan dengan Kepala Keluarga",
    "birth_date": "Tanggal Lahir",
    "id_dtks": "IDDTKS",
    "no_kk": "Nomor KK",
    "mother_name": "Nama Ibu Kandung",
    "birth_place": "Tempat Lahir",
    "id_dtsen_keluarga": "ID Keluarga DTSEN",
    "id_dtsen_individu": "ID Individu DTSEN",
}
_files = itertools.count(1)


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    field: str | None


@dataclass
class Parsed:
    header_row: int
    columns: list[Column]
    unmatched: list[str]
    rows: Iterator[ParsedRow]


@dataclass
class Row:
    """One file row for the stand-in parser: values as the real parser would give them, plus issues."""

    values: dict[str, Any]
    issues: list[CellIssue] = field(default_factory=list)


PARSED: dict[str, tuple[str, list[Row]]] = {}  # ImportFile name -> (kind, rows)


def _raw(values: dict[str, Any]) -> dict[str, str]:
    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "YA" if value else "TIDAK"
        return value.isoformat() if isinstance(value, dt.date) else str(value)

    return {HEADERS.get(k, k): text(v) for k, v in values.items()}


def fake_parse(path: Any, kind: str) -> Parsed:
    stored_kind, rows = PARSED[str(path).rsplit("/", 1)[-1]]
    assert stored_kind == kind
    fields = list(dict.fromkeys(name for row in rows for name in row.values))
    columns = [Column(i, HEADERS.get(name, name), name) for i, name in enumerate(fields)]
    parsed_rows = (
        ParsedRow(row_number=n, values=dict(row.values), raw=_raw(row.values), issues=list(row.issues))
        for n, row in enumerate(rows, start=2)
    )
    return Parsed(header_row=1, columns=columns, unmatched=[], rows=parsed_rows)


@pytest.fixture(name="stand_in_parser")
def stand_in_parser_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "parse_file", fake_parse)


@pytest.fixture(name="kendal")
def kendal_fixture(db: None) -> Region:
    load_kendal()
    return Region.objects.get(code=KENDAL)


@pytest.fixture(name="secretariat")
def secretariat_fixture(kendal: Region) -> Any:
    return user_with_role(Role.SECRETARIAT, KENDAL)


def make_job(
    user: Any,
    files: dict[str, list[Row]],
    *,
    source: str = "p3ke",
    label: str = "Semester 1 2024",
    dry_run: bool = False,
    region: str = KENDAL,
) -> ImportJob:
    source_row(source)  # a transactional test's flush removes the seeded sources
    job = ImportJob.objects.create(
        source_id=source,
        region_id=region,
        snapshot_label=label,
        snapshot_date=dt.date(2024, 6, 30),
        dry_run=dry_run,
        created_by=user,
    )
    for kind, rows in files.items():
        name = f"test-{next(_files)}-{kind}.csv"
        PARSED[name] = (kind, rows)
        ImportFile.objects.create(job=job, kind=kind, file=f"imports/test/{name}", original_name=name, sha256="0" * 64)
    return job


# ------------------------------------------------------------------------------------------------- rows


def family(family_id: str, *, region: str = BLUMAH, head: str = "SLAMET RIYADI", desil: int = 1, **extra: Any) -> Row:
    values: dict[str, Any] = {
        "id_keluarga": family_id,
        "region_code": region,
        "desa_name": "BLUMAH" if region == BLUMAH else "",
        "desil": desil,
        "head_name": head,
        "address": "DK. KRAJAN RT 001 RW 002",
        "house_ownership": choices.HouseOwnership.OWN,
        "receives_pkh": True,
        **extra,
    }
    return Row(values)


def person(
    family_id: str,
    person_id: str,
    name: str,
    *,
    nik: str | None = None,
    birth: dt.date = dt.date(1980, 5, 17),
    sex: str = choices.Sex.MALE,
    relationship: str = choices.Relationship.HEAD,
    nik_status: str | None = None,
    nik_note: str = "",
    **extra: Any,
) -> Row:
    status = nik_status or (choices.NikStatus.VALID if nik else choices.NikStatus.MISSING)
    values = {
        "id_keluarga": family_id,
        "id_individu": person_id,
        "name": name,
        "nik": nik if status == choices.NikStatus.VALID else None,
        "nik_status": status,
        "nik_note": nik_note,
        "sex": sex,
        "relationship": relationship,
        "birth_date": birth,
        **extra,
    }
    issues = []
    if status == choices.NikStatus.MISSING:
        issues.append(CellIssue("NIK", "", "nik_empty", "NIK kosong.", "warning"))
    return Row(values, issues)


def nik(serial: int, *, birth: dt.date = dt.date(1980, 5, 17), sex: str = choices.Sex.MALE) -> str:
    return make_nik(kecamatan=BLUMAH[:6], birth_date=birth, sex=sex, serial=serial)


def small_p3ke() -> dict[str, list[Row]]:
    """3 families, 7 persons; one NIK stored as an Excel number (kept NULL), one blank NIK."""
    wife_birth = dt.date(1984, 2, 3)
    return {
        "family": [
            family("F1", head="SLAMET RIYADI", desil=1),
            family("F2", head="SITI AMINAH", desil=2, region=KEDITEN),
            family("F3", head="PAINEM", desil=4),
        ],
        "person": [
            person("F1", "F1-01", "SLAMET RIYADI", nik=nik(1)),
            person(
                "F1",
                "F1-02",
                "SUMINAH",
                nik=nik(2, birth=wife_birth, sex=choices.Sex.FEMALE),
                birth=wife_birth,
                sex=choices.Sex.FEMALE,
                relationship=choices.Relationship.SPOUSE,
            ),
            person("F1", "F1-03", "AGUS", relationship=choices.Relationship.CHILD, birth=dt.date(2010, 1, 1)),
            person(
                "F2",
                "F2-01",
                "SITI AMINAH",
                nik_status=choices.NikStatus.NEEDS_VERIFICATION,
                nik_note="NIK tersimpan sebagai angka Excel; perlu verifikasi",
                sex=choices.Sex.FEMALE,
            ),
            person("F2", "F2-02", "BUDI", nik=nik(3, birth=dt.date(2005, 7, 1)), birth=dt.date(2005, 7, 1)),
            person("F3", "F3-01", "PAINEM", nik=nik(4, birth=dt.date(1950, 1, 1)), birth=dt.date(1950, 1, 1)),
            person("F3", "F3-02", "TUKIMAN", nik=nik(5, birth=dt.date(1948, 3, 3)), birth=dt.date(1948, 3, 3)),
        ],
    }


# ------------------------------------------------------------------------------------------ registry state


def registry_counts() -> dict[str, int]:
    return {
        "households": Household.objects.count(),
        "persons": Person.objects.count(),
        "household_links": HouseholdSourceLink.objects.count(),
        "person_links": PersonSourceLink.objects.count(),
        "snapshots": Snapshot.objects.count(),
        "reviews": LinkageReview.objects.count(),
    }


def registry_dump() -> dict[str, list[tuple[Any, ...]]]:
    """Every registry row with every column (timestamps included): equal dumps = identical registry."""

    def rows(model: Any) -> list[tuple[Any, ...]]:
        names = [f.attname for f in model._meta.concrete_fields]
        return sorted(tuple(str(v) for v in row) for row in model.objects.values_list(*names))

    return {m.__name__: rows(m) for m in (Household, Person, HouseholdSourceLink, PersonSourceLink)}


def errors(job: ImportJob) -> list[tuple[str, int, str, str, str]]:
    return list(
        RowError.objects.filter(job=job)
        .order_by("file", "row_number", "code")
        .values_list("file", "row_number", "code", "severity", "message")
    )
