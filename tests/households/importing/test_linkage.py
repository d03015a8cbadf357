"""DTKS / DTSEN linkage: by NIK, by name + birth date + desa, ambiguous and conflicting rows to review,
clearly new families created, DTSEN desil kept per source, idempotent re-runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from households import choices
from households.importing import engine
from households.importing.linkage import normalize_name
from households.models import Household, HouseholdSourceLink, LinkageReview, Person, PersonSourceLink
from tests.factories import HouseholdFactory, PersonFactory, make_no_kk

from .engine_support import (
    BLUMAH,
    KEDITEN,
    Row,
    kendal_fixture,  # noqa: F401 - fixture
    make_job,
    nik,
    registry_dump,
    secretariat_fixture,  # noqa: F401 - fixture
    small_p3ke,
    stand_in_parser_fixture,  # noqa: F401 - fixture
)

NAMES = [
    ("Hj. Siti Ma'rifah, S.Pd.", "SITI MARIFAH"),
    ("H. SLAMET  RIYADI", "SLAMET RIYADI"),
    ("DR. IR. BUDI", "BUDI"),
    ("  agus-santoso ", "AGUS SANTOSO"),
    ("HAJI", "HAJI"),
    ("M. NUR HIDAYAT", "M NUR HIDAYAT"),
    ("SITI.AMINAH", "SITI AMINAH"),
    ("NY. SUMIYATI", "SUMIYATI"),
]


@pytest.mark.parametrize(("name", "expected"), NAMES)
def test_normalize_name(name: str, expected: str) -> None:
    assert normalize_name(name) == expected


@pytest.mark.django_db
@pytest.mark.postgres
def test_sql_normalisation_is_the_python_one() -> None:
    from households.importing.linkage import SQL_NORM_FUNCTION

    with connection.cursor() as cursor:
        cursor.execute(SQL_NORM_FUNCTION)
        for name, expected in NAMES:
            cursor.execute("SELECT pg_temp.tkpk_norm_name(%s)", [name])
            assert cursor.fetchone()[0] == expected == normalize_name(name)


K1 = make_no_kk(kecamatan=BLUMAH[:6], serial=101)
K2 = make_no_kk(kecamatan=BLUMAH[:6], serial=102)
K3 = make_no_kk(kecamatan=BLUMAH[:6], serial=103)
K4 = make_no_kk(kecamatan=BLUMAH[:6], serial=104)
K5 = make_no_kk(kecamatan=BLUMAH[:6], serial=105)


def dtks(
    id_dtks: str,
    name: str,
    *,
    no_kk: str | None,
    nik_: str | None = None,
    birth: dt.date = dt.date(1980, 5, 17),
    region: str | None = BLUMAH,
    relationship: str = choices.Relationship.HEAD,
    **extra: Any,
) -> Row:
    values: dict[str, Any] = {
        "id_dtks": id_dtks,
        "no_kk": no_kk,
        "nik": nik_,
        "nik_status": choices.NikStatus.VALID if nik_ else choices.NikStatus.MISSING,
        "nik_note": "",
        "name": name,
        "birth_date": birth,
        "birth_place": "KENDAL",
        "mother_name": "SARMI",
        "sex": choices.Sex.MALE,
        "relationship": relationship,
        "address": "DK. KRAJAN",
        **extra,
    }
    if region is not None:
        values["region_code"] = region
    return Row(values)


def dtks_file() -> list[Row]:
    child = choices.Relationship.CHILD
    return [
        dtks("D1", "H. Slamet Riyadi", no_kk=K1, nik_=nik(1)),  # 2 NIK -> F1
        dtks("D2", "Suminah", no_kk=K1, birth=dt.date(1984, 2, 3), relationship="ISTRI_SUAMI"),  # 3 name -> F1
        dtks("D3", "AGUS", no_kk=K1, birth=dt.date(2010, 1, 1), relationship=child),  # 4 name -> F1
        dtks("D4", "ANAK BARU", no_kk=K1, birth=dt.date(2020, 1, 1), relationship=child),  # 5 unmatched in F1
        dtks("D5", "PAINEM", no_kk=K2, nik_=nik(4, birth=dt.date(1950, 1, 1))),  # 6 NIK -> F3
        dtks("D6", "BUDI", no_kk=K2, nik_=nik(3, birth=dt.date(2005, 7, 1)), relationship=child),  # 7 NIK -> F2
        dtks("D7", "KARSO", no_kk=K3, nik_=nik(70), birth=dt.date(1970, 1, 1)),  # 8 new family
        dtks("D8", "KARSINI", no_kk=K3, birth=dt.date(1972, 1, 1), relationship="ISTRI_SUAMI"),  # 9 new family
        dtks("D9", "TANPA WILAYAH", no_kk=K4, region=None),  # 10 unmatched, no desa: review
        dtks("D10", "KEMBAR NAMA", no_kk=K5, birth=dt.date(1990, 9, 9)),  # 11 two candidates
    ]


@pytest.fixture
def registry(secretariat: Any) -> dict[str, Any]:
    """The P3KE families F1-F3 plus two persons with the same name and birth date in Blumah."""
    engine.run(job=make_job(secretariat, small_p3ke()))
    twins = [
        PersonFactory(name="Kembar  Nama", birth_date=dt.date(1990, 9, 9), nik=None, household=HouseholdFactory())
        for _ in range(2)
    ]
    return {"twins": twins}


def household_of(external_id: str) -> Household:
    return HouseholdSourceLink.objects.get(source="p3ke", external_id=external_id).household


@pytest.mark.django_db
@pytest.mark.usefixtures("stand_in_parser")
def test_dtks_linkage(secretariat: Any, registry: dict[str, Any]) -> None:
    persons_before = Person.objects.count()
    job = make_job(secretariat, {"dtks": dtks_file()}, source="dtks", label="DTKS 2024")

    summary = engine.run(job=job)

    assert summary.linkage == {
        "already_linked": 0,
        "matched_by_nik": 3,
        "matched_by_name": 2,
        "created": 2,
        "ambiguous": 1,
        "unmatched": 2,
        "families_new": 1,
        "families_conflict": 1,
        "review": 4,
    }
    assert (summary.persons.created, summary.persons.updated, summary.persons.unchanged) == (2, 5, 0)
    assert (summary.families.created, summary.families.updated, summary.families.unchanged) == (1, 1, 0)

    f1 = household_of("F1")
    assert HouseholdSourceLink.objects.get(source="dtks", external_id=K1).household == f1
    assert f1.no_kk == K1  # a blank filled
    linked = dict(PersonSourceLink.objects.filter(source="dtks").values_list("external_id", "person__name"))
    assert linked == {
        "D1": "SLAMET RIYADI",
        "D2": "SUMINAH",
        "D3": "AGUS",
        "D5": "PAINEM",
        "D6": "BUDI",
        "D7": "KARSO",
        "D8": "KARSINI",
    }
    slamet = PersonSourceLink.objects.get(source="dtks", external_id="D1").person
    assert (slamet.name, slamet.birth_place, slamet.mother_name) == ("SLAMET RIYADI", "KENDAL", "SARMI")
    # Never merged silently: the conflicting family has no household link, the new member is not added.
    assert not HouseholdSourceLink.objects.filter(source="dtks", external_id=K2).exists()
    assert f1.members.count() == 3
    new = HouseholdSourceLink.objects.get(source="dtks", external_id=K3).household
    assert (new.head_name, new.desa_id, new.no_kk, new.desil) == ("KARSO", BLUMAH, K3, None)
    assert sorted(new.members.values_list("name", flat=True)) == ["KARSINI", "KARSO"]
    assert Person.objects.count() == persons_before + 2

    reviews = {(r.external_id, r.row_number, r.reason): r.candidates for r in LinkageReview.objects.filter(job=job)}
    twins = sorted(registry["twins"], key=lambda p: p.pk)
    assert reviews == {
        ("D4", 5, "no_match"): [{"household": f1.pk}],
        (K2, 6, "conflict"): [
            {"row": 6, "person": PersonSourceLink.objects.get(external_id="F3-01").person_id,
             "household": household_of("F3").pk},
            {"row": 7, "person": PersonSourceLink.objects.get(external_id="F2-02").person_id,
             "household": household_of("F2").pk},
        ],
        ("D9", 10, "no_match"): [],
        ("D10", 11, "ambiguous"): [{"person": p.pk, "household": p.household_id} for p in twins],
    }  # fmt: skip


@pytest.mark.django_db
@pytest.mark.usefixtures("stand_in_parser")
def test_dtks_rerun_is_idempotent(secretariat: Any, registry: dict[str, Any]) -> None:
    engine.run(job=make_job(secretariat, {"dtks": dtks_file()}, source="dtks", label="DTKS 2024"))
    before = registry_dump()

    job = make_job(secretariat, {"dtks": dtks_file()}, source="dtks", label="DTKS 2024")
    summary = engine.run(job=job)

    assert registry_dump() == before
    assert summary.linkage["already_linked"] == 7
    assert (summary.persons.created, summary.persons.updated, summary.persons.unchanged) == (0, 0, 7)
    assert (summary.families.created, summary.families.updated, summary.families.unchanged) == (0, 0, 2)
    assert LinkageReview.objects.filter(job=job).count() == 4  # the same rows still wait for review


@pytest.mark.django_db
@pytest.mark.usefixtures("stand_in_parser")
def test_dtks_rows_checked_and_desa_found_by_name(secretariat: Any, registry: dict[str, Any]) -> None:
    from tests.factories import load_region

    load_region("64.02")
    rows = [
        dtks("E1", "KARSO", no_kk=K3, nik_=nik(70), region=None, kecamatan_name="PLANTUNGAN", desa_name="Blumah"),
        dtks("E1", "KARSO LAGI", no_kk=K3),  # 3 duplicate id
        dtks("E2", "LUAR", no_kk=K4, region="3324999999"),  # 4 unknown code
        dtks("E3", "JAUH", no_kk=K4, region="6402012001"),  # 5 outside Kendal
        dtks("E4", "KARSINI", no_kk=K3, nik_=nik(70), relationship="ISTRI_SUAMI"),  # 6 same NIK as row 2
    ]
    job = make_job(secretariat, {"dtks": rows}, source="dtks", label="DTKS 2024")
    summary = engine.run(job=job)
    assert (summary.persons.rejected, summary.persons.warnings) == (3, 1)
    assert summary.linkage["created"] == 2
    assert HouseholdSourceLink.objects.get(source="dtks", external_id=K3).household.desa_id == BLUMAH
    codes = list(job.row_errors.order_by("row_number").values_list("row_number", "code", "message"))
    assert codes == [
        (3, "duplicate_id", "ID E1 ganda: sudah ada di baris 2."),
        (4, "region_unknown", "Kode wilayah 33.24.99.9999 tidak ada dalam daftar wilayah yang dimuat."),
        (5, "region_outside", "Kode wilayah 64.02.01.2001 di luar wilayah 33.24 Kabupaten Kendal."),
        (6, "nik_duplicate", "NIK 3324********0070 juga tercantum di baris 2."),
    ]


def dtsen(family_id: str, person_id: str, name: str, *, nik_: str | None, desil: int, **extra: Any) -> Row:
    return Row({
        "id_dtsen_keluarga": family_id,
        "id_dtsen_individu": person_id,
        "name": name,
        "nik": nik_,
        "nik_status": choices.NikStatus.VALID if nik_ else choices.NikStatus.MISSING,
        "birth_date": dt.date(1980, 5, 17),
        "relationship": choices.Relationship.HEAD,
        "region_code": BLUMAH,
        "desil": desil,
        **extra,
    })  # fmt: skip


@pytest.mark.django_db
@pytest.mark.usefixtures("stand_in_parser")
def test_dtsen_desil_never_overwrites_the_registry_desil(secretariat: Any, registry: dict[str, Any]) -> None:
    engine.run(job=make_job(secretariat, {"dtks": dtks_file()}, source="dtks", label="DTKS 2024"))
    rows = [
        dtsen("S1", "S1-1", "SLAMET RIYADI", nik_=nik(1), desil=5),  # P3KE family F1 (desil 1)
        dtsen("S2", "S2-1", "KARSO", nik_=nik(70), desil=7, birth_date=dt.date(1970, 1, 1)),  # DTKS family, no desil
        dtsen("S3", "S3-1", "WARGA BARU", nik_=None, desil=2, region_code=KEDITEN),  # new family
    ]
    job = make_job(secretariat, {"dtsen": rows}, source="dtsen", label="DTSEN 2025-Q1")
    summary = engine.run(job=job)

    f1 = household_of("F1")
    assert f1.desil == 1  # P3KE's value stays
    assert HouseholdSourceLink.objects.get(source="dtsen", external_id="S1").desil == 5
    karso = HouseholdSourceLink.objects.get(source="dtks", external_id=K3).household
    assert karso.desil == 7  # it had none
    new = HouseholdSourceLink.objects.get(source="dtsen", external_id="S3").household
    assert (new.desil, new.desa_id, new.head_name) == (2, KEDITEN, "WARGA BARU")
    assert (summary.families.created, summary.families.updated) == (1, 2)
    assert summary.linkage["matched_by_nik"] == 2

    # The same DTSEN file again: nothing changes.
    before = registry_dump()
    again = engine.run(job=make_job(secretariat, {"dtsen": rows}, source="dtsen", label="DTSEN 2025-Q1"))
    assert registry_dump() == before
    assert (again.families.unchanged, again.persons.unchanged) == (3, 3)


@pytest.mark.django_db
@pytest.mark.usefixtures("stand_in_parser")
def test_dtks_dry_run_writes_no_link_and_no_review(secretariat: Any, registry: dict[str, Any]) -> None:
    before = registry_dump()
    job = make_job(secretariat, {"dtks": dtks_file()}, source="dtks", label="DTKS 2024", dry_run=True)
    summary = engine.run(job=job)
    assert registry_dump() == before
    assert not LinkageReview.objects.exists()
    assert summary.linkage["review"] == 4 and summary.persons.created == 2


@pytest.mark.django_db
@pytest.mark.usefixtures("stand_in_parser")
def test_a_blank_p3ke_cell_keeps_what_another_source_filled(secretariat: Any, registry: dict[str, Any]) -> None:
    engine.run(job=make_job(secretariat, {"dtks": dtks_file()}, source="dtks", label="DTKS 2024"))
    assert household_of("F1").no_kk == K1
    files = small_p3ke()
    for row in files["family"]:
        row.values["no_kk"] = None  # the column is there, the cells are blank

    summary = engine.run(job=make_job(secretariat, files))

    assert household_of("F1").no_kk == K1
    assert summary.families.unchanged == 3
