"""Household and Person: database constraints, single-row clean(), code columns, masking, derived flags.

The check constraints are enforced by PostgreSQL and by SQLite alike (Django registers REGEXP on SQLite), so
these tests run in both passes.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from households import choices
from households.models import Household, Person
from tests.factories import HouseholdFactory, PersonFactory, desa, load_kendal, make_nik, make_no_kk
from tkpk.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def regions() -> None:
    load_kendal()


def saving_fails(**fields) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        HouseholdFactory(**fields)


# ------------------------------------------------------------------------------------ DB constraints


@pytest.mark.parametrize("desil", [0, 11])
def test_desil_outside_1_to_10_is_refused_by_the_database(desil: int) -> None:
    saving_fails(desil=desil)


def test_desil_check_constraint_also_guards_queryset_updates() -> None:
    household = HouseholdFactory(desil=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        Household.objects.filter(pk=household.pk).update(desil=11)
    household.refresh_from_db()
    assert household.desil == 4


@pytest.mark.parametrize("desil", [1, 10, None])
def test_desil_bounds_and_blank_are_accepted(desil: int | None) -> None:
    household = HouseholdFactory(desil=desil)
    household.refresh_from_db()
    assert household.desil == desil


@pytest.mark.parametrize("persentil", [0, 101])
def test_persentil_outside_1_to_100_is_refused(persentil: int) -> None:
    saving_fails(persentil=persentil)


def test_graduated_household_needs_a_date() -> None:
    saving_fails(status=choices.HouseholdStatus.GRADUATED, status_changed_on=None)
    graduated = HouseholdFactory(status=choices.HouseholdStatus.GRADUATED, status_changed_on=dt.date(2025, 1, 31))
    assert Household.objects.filter(pk=graduated.pk, status="graduated").exists()


def test_merged_household_needs_a_target() -> None:
    saving_fails(status=choices.HouseholdStatus.MERGED, merged_into=None)
    target = HouseholdFactory()
    merged = HouseholdFactory(status=choices.HouseholdStatus.MERGED, merged_into=target)
    assert merged.merged_into_id == target.pk


@pytest.mark.parametrize("nik", ["332401550190000", "33240155019000AB", "3324 015501900001"[:16], ""])
def test_nik_must_be_16_digits_in_the_database(nik: str) -> None:
    household = HouseholdFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(household=household, name="Uji", nik=nik, nik_status=choices.NikStatus.INVALID)


def test_valid_nik_status_needs_a_nik_in_the_database() -> None:
    household = HouseholdFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(household=household, name="Uji", nik=None, nik_status=choices.NikStatus.VALID)


def test_person_without_nik_is_stored() -> None:
    person = PersonFactory(nik=None)
    person.refresh_from_db()
    assert (person.nik, person.nik_status) == (None, choices.NikStatus.MISSING)


# ------------------------------------------------------------------------------------ code columns


def test_save_sets_the_region_code_columns_from_the_desa() -> None:
    household = HouseholdFactory(desa=desa("3324151001"))
    household.refresh_from_db()
    assert (household.province_code, household.kabupaten_code, household.kecamatan_code) == ("33", "3324", "332415")


def test_moving_to_another_desa_updates_the_code_columns() -> None:
    household = HouseholdFactory(desa=desa("3324012001"))
    household.desa = desa("3324151001")
    household.save()
    assert Household.objects.filter(pk=household.pk, kecamatan_code="332415").exists()


# ----------------------------------------------------------------------------------- Household.clean


def unsaved_household(**fields) -> Household:
    return HouseholdFactory.build(**fields)


def clean_errors(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        instance.clean()
    return caught.value.message_dict


@pytest.mark.parametrize(
    ("no_kk", "message"),
    [
        ("332401090315", "Nomor KK harus terdiri dari 16 digit angka."),
        ("3324013203150001", "Tanggal terbit pada Nomor KK tidak valid."),
        ("3324014903150001", "Tanggal terbit pada Nomor KK tidak valid."),  # day 49: +40 is NIK-only
        ("9924010903150001", "Kode provinsi “99” pada Nomor KK tidak dikenal."),
        ("3324010903150000", "Nomor urut Nomor KK tidak boleh 0000."),
    ],
)
def test_household_clean_rejects_an_invalid_no_kk(no_kk: str, message: str) -> None:
    assert clean_errors(unsaved_household(no_kk=no_kk)) == {"no_kk": [message]}


def test_household_clean_normalises_the_no_kk() -> None:
    household = unsaved_household(no_kk="'3324 0109 0315 0001")
    household.clean()
    assert household.no_kk == "3324010903150001"


def test_household_clean_accepts_an_empty_no_kk() -> None:
    household = unsaved_household(no_kk=None)
    household.clean()
    assert household.no_kk is None


@pytest.mark.parametrize("code", ["33", "3324", "332401"])
def test_household_clean_wants_a_desa(code: str) -> None:
    household = unsaved_household(desa=Region.objects.get(code=code))
    assert clean_errors(household) == {"desa": ["Pilih wilayah tingkat desa/kelurahan (kode 10 digit)."]}


def test_household_clean_status_rules() -> None:
    graduated = unsaved_household(status=choices.HouseholdStatus.GRADUATED, status_changed_on=None)
    assert clean_errors(graduated) == {"status_changed_on": ["Tanggal graduasi wajib diisi."]}
    merged = unsaved_household(status=choices.HouseholdStatus.MERGED, merged_into=None)
    assert clean_errors(merged) == {"merged_into": ["Pilih keluarga tujuan penggabungan."]}


def test_household_clean_collects_every_error() -> None:
    household = unsaved_household(
        no_kk="123", desa=Region.objects.get(code="332401"), status=choices.HouseholdStatus.GRADUATED
    )
    assert set(clean_errors(household)) == {"no_kk", "desa", "status_changed_on"}


def test_household_full_clean_reports_desil_out_of_range() -> None:
    household = unsaved_household(desil=11)
    with pytest.raises(ValidationError) as caught:
        household.full_clean()
    assert "desil" in caught.value.message_dict


def test_valid_household_passes_full_clean() -> None:
    unsaved_household(no_kk=make_no_kk(kecamatan="332401")).full_clean()


# -------------------------------------------------------------------------------------- Person.clean


def unsaved_person(**fields) -> Person:
    return PersonFactory.build(household=HouseholdFactory(), **fields)


@pytest.mark.parametrize("written", ["'3324015501900001", "3324 0155 0190 0001", " 33.24.01.550190.0001 "])
def test_person_clean_normalises_the_nik_and_marks_it_valid(written: str) -> None:
    person = unsaved_person(nik=written, nik_status=choices.NikStatus.NEEDS_VERIFICATION, nik_note="NIK DUPLIKAT")
    person.clean()
    assert (person.nik, person.nik_status, person.nik_note) == ("3324015501900001", choices.NikStatus.VALID, "")


@pytest.mark.parametrize(
    ("nik", "message"),
    [
        ("3.324015501900001e+15", "NIK harus terdiri dari 16 digit angka."),
        ("9924015501900001", 'Kode provinsi "99" tidak dikenal.'),
        ("3324013501900001", "Tanggal lahir di NIK tidak valid."),
        ("3324015501900000", "Nomor urut NIK tidak boleh 0000."),
    ],
)
def test_person_clean_rejects_an_invalid_nik(nik: str, message: str) -> None:
    person = unsaved_person(nik=nik, nik_status=choices.NikStatus.INVALID)
    assert clean_errors(person) == {"nik": [message]}
    assert person.nik_status == choices.NikStatus.INVALID


def test_person_clean_without_nik_cannot_stay_valid() -> None:
    person = unsaved_person(nik="", nik_status=choices.NikStatus.VALID)
    person.clean()
    assert person.nik_status == choices.NikStatus.MISSING


def test_person_clean_keeps_other_statuses_without_nik() -> None:
    person = unsaved_person(nik=None, nik_status=choices.NikStatus.NEEDS_VERIFICATION)
    person.clean()
    assert person.nik_status == choices.NikStatus.NEEDS_VERIFICATION


def test_generated_person_nik_is_valid_for_its_kecamatan() -> None:
    person = PersonFactory(
        household=HouseholdFactory(desa=desa("3324151001")), sex="P", birth_date=dt.date(1990, 1, 15)
    )
    assert person.nik.startswith("3324155501") and person.nik[10:12] == "90"
    person.full_clean()


# ---------------------------------------------------------------------------------- masking and flags


def test_masked_identifiers() -> None:
    household = unsaved_household(no_kk="3324010903150001")
    person = unsaved_person(nik="3324015501900001")
    assert household.no_kk_masked == "3324********0001"
    assert person.nik_masked == "3324********0001"
    assert unsaved_household(no_kk=None).no_kk_masked == ""
    assert unsaved_person(nik=None).nik_masked == ""


def test_str_of_a_household_shows_no_identifier() -> None:
    household = HouseholdFactory(head_name="Siti Aminah", no_kk="3324010903150001")
    assert str(household) == "Siti Aminah (3324012001)"


@pytest.mark.parametrize(
    ("fields", "unfit"),
    [
        ({"floor_type": choices.FloorType.EARTH}, True),
        ({"floor_type": choices.FloorType.BAMBOO}, True),
        ({"floor_type": choices.FloorType.CERAMIC, "roof_quality": choices.BuildingQuality.POOR}, True),
        ({"floor_type": choices.FloorType.CERAMIC, "wall_quality": choices.BuildingQuality.POOR}, True),
        ({"floor_type": choices.FloorType.CEMENT, "floor_quality": choices.BuildingQuality.POOR}, True),
        (
            {
                "floor_type": choices.FloorType.CERAMIC,
                "roof_quality": choices.BuildingQuality.GOOD,
                "wall_quality": choices.BuildingQuality.GOOD,
                "floor_quality": choices.BuildingQuality.GOOD,
            },
            False,
        ),
        ({}, False),
    ],
)
def test_is_unfit_housing(fields: dict[str, str], unfit: bool) -> None:
    household = HouseholdFactory(**fields)
    assert household.is_unfit_housing is unfit
    # Values read back from the database are plain strings, not enum members.
    assert Household.objects.get(pk=household.pk).is_unfit_housing is unfit


def test_make_nik_encodes_women_with_day_plus_40() -> None:
    assert make_nik(kecamatan="332401", birth_date=dt.date(1990, 1, 15), sex="P", serial=1) == "3324015501900001"
    assert make_nik(kecamatan="332401", birth_date=dt.date(1990, 1, 15), sex="L", serial=1) == "3324011501900001"
