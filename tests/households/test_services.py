"""Registry writes: revealing identifiers (logged, role-limited), view logging and status changes."""

from __future__ import annotations

import datetime as dt

import pytest

from households import choices
from households.models import Household
from households.services import (
    household_change_status,
    household_reveal_no_kk,
    household_view_record,
    person_reveal_nik,
)
from tests.factories import HouseholdFactory, PersonFactory, UserFactory, desa, load_kendal, user_with_role
from tkpk.exceptions import DomainError
from tkpk.models import AccessAction, PersonalDataAccess
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

DESA = "3324012001"


@pytest.fixture(autouse=True)
def regions() -> None:
    load_kendal()


@pytest.fixture
def secretariat():
    return user_with_role(Role.SECRETARIAT, "3324")


@pytest.fixture
def person():
    return PersonFactory(household=HouseholdFactory(desa=desa(DESA)), nik="3324015501900001")


# ----------------------------------------------------------------------------------------- reveal NIK


def test_secretariat_reveals_a_nik_and_the_reveal_is_logged(secretariat, person) -> None:
    value = person_reveal_nik(actor=secretariat, person=person, ip_address="10.1.2.3")

    assert value == "3324015501900001"
    log = PersonalDataAccess.objects.get()
    assert log.user == secretariat
    assert log.action == AccessAction.REVEAL_NIK
    assert (log.object_type, log.object_ids, log.record_count) == ("person", [person.pk], 1)
    assert log.region_code == DESA
    assert log.ip_address == "10.1.2.3"
    assert PersonalDataAccess.objects.for_user(secretariat).get() == log


def test_every_reveal_is_logged(secretariat, person) -> None:
    person_reveal_nik(actor=secretariat, person=person)
    person_reveal_nik(actor=secretariat, person=person)
    assert PersonalDataAccess.objects.filter(action=AccessAction.REVEAL_NIK, user=secretariat).count() == 2


def test_superuser_may_reveal(person) -> None:
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert person_reveal_nik(actor=admin, person=person) == person.nik
    assert PersonalDataAccess.objects.filter(user=admin).count() == 1


def test_reveal_of_a_person_without_nik_returns_empty(secretariat) -> None:
    person = PersonFactory(nik=None)
    assert person_reveal_nik(actor=secretariat, person=person) == ""


@pytest.mark.parametrize("role", [Role.OPD_OFFICER, Role.PARTNER, Role.LEADERSHIP])
def test_other_roles_may_not_reveal_a_nik(role: str, person) -> None:
    with pytest.raises(DomainError) as caught:
        person_reveal_nik(actor=user_with_role(role, "3324"), person=person)

    assert caught.value.code == "reveal_forbidden"
    assert caught.value.message == "Peran Anda tidak dapat membuka NIK lengkap."
    assert not PersonalDataAccess.objects.exists()


def test_user_without_membership_may_not_reveal(person) -> None:
    with pytest.raises(DomainError):
        person_reveal_nik(actor=UserFactory(), person=person)
    assert not PersonalDataAccess.objects.exists()


def test_secretariat_reveals_a_no_kk_and_it_is_logged(secretariat) -> None:
    household = HouseholdFactory(no_kk="3324010903150001")

    assert household_reveal_no_kk(actor=secretariat, household=household) == "3324010903150001"
    log = PersonalDataAccess.objects.get()
    assert (log.action, log.object_type, log.object_ids, log.region_code) == (
        AccessAction.REVEAL_NIK,
        "household.no_kk",
        [household.pk],
        DESA,
    )


@pytest.mark.parametrize("role", [Role.OPD_OFFICER, Role.PARTNER])
def test_other_roles_may_not_reveal_a_no_kk(role: str) -> None:
    with pytest.raises(DomainError) as caught:
        household_reveal_no_kk(actor=user_with_role(role, "3324"), household=HouseholdFactory())
    assert (caught.value.code, caught.value.message) == (
        "reveal_forbidden",
        "Peran Anda tidak dapat membuka Nomor KK lengkap.",
    )
    assert not PersonalDataAccess.objects.exists()


# ----------------------------------------------------------------------------------------- view record


@pytest.mark.parametrize("role", [Role.SECRETARIAT, Role.OPD_OFFICER, Role.PARTNER])
def test_household_view_is_logged(role: str) -> None:
    user = user_with_role(role, "3324")
    household = HouseholdFactory(desa=desa("3324151001"))

    household_view_record(actor=user, household=household, ip_address="192.0.2.7")

    log = PersonalDataAccess.objects.get()
    assert (log.user, log.action, log.object_type, log.object_ids, log.record_count) == (
        user,
        AccessAction.VIEW_HOUSEHOLD,
        "household",
        [household.pk],
        1,
    )
    assert (log.region_code, log.ip_address) == ("3324151001", "192.0.2.7")


# --------------------------------------------------------------------------------------- status change


def change(actor, household, **kwargs) -> Household:
    kwargs.setdefault("changed_on", dt.date(2025, 6, 1))
    kwargs.setdefault("reason", "Verifikasi lapangan")
    return household_change_status(actor=actor, household=household, **kwargs)


def test_graduation_records_date_reason_and_verifier(secretariat) -> None:
    household = HouseholdFactory()

    change(secretariat, household, status=choices.HouseholdStatus.GRADUATED, reason="  Usaha warung berjalan  ")

    household.refresh_from_db()
    assert household.status == choices.HouseholdStatus.GRADUATED
    assert household.status_changed_on == dt.date(2025, 6, 1)
    assert household.status_reason == "Usaha warung berjalan"
    assert household.status_verified_by == secretariat
    assert household.merged_into is None


@pytest.mark.parametrize("reason", ["", "   "])
def test_graduation_needs_a_reason(secretariat, reason: str) -> None:
    household = HouseholdFactory()

    with pytest.raises(DomainError) as caught:
        change(secretariat, household, status=choices.HouseholdStatus.GRADUATED, reason=reason)

    assert (caught.value.code, caught.value.message) == ("status_reason", "Alasan perubahan status wajib diisi.")
    household.refresh_from_db()
    assert (household.status, household.status_verified_by) == (choices.HouseholdStatus.ACTIVE, None)


def test_unknown_status_is_refused(secretariat) -> None:
    household = HouseholdFactory()
    with pytest.raises(DomainError) as caught:
        change(secretariat, household, status="lulus")
    assert (caught.value.code, caught.value.message) == ("status_unknown", "Status keluarga tidak dikenal.")
    assert Household.objects.get(pk=household.pk).status == choices.HouseholdStatus.ACTIVE


def test_merge_points_to_the_target(secretariat) -> None:
    duplicate, target = HouseholdFactory(), HouseholdFactory()

    change(secretariat, duplicate, status=choices.HouseholdStatus.MERGED, merged_into=target, reason="KK sama")

    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == (choices.HouseholdStatus.MERGED, target.pk)
    assert Household.objects.get(pk=target.pk).status == choices.HouseholdStatus.ACTIVE


@pytest.mark.parametrize("target", ["none", "self"])
def test_merge_needs_another_household(secretariat, target: str) -> None:
    household = HouseholdFactory()
    merged_into = household if target == "self" else None

    with pytest.raises(DomainError) as caught:
        change(secretariat, household, status=choices.HouseholdStatus.MERGED, merged_into=merged_into)

    assert (caught.value.code, caught.value.message) == (
        "merge_target",
        "Pilih keluarga lain sebagai tujuan penggabungan.",
    )
    household.refresh_from_db()
    assert (household.status, household.merged_into_id) == (choices.HouseholdStatus.ACTIVE, None)


def test_merge_target_is_dropped_for_other_statuses(secretariat) -> None:
    household, target = HouseholdFactory(), HouseholdFactory()
    change(secretariat, household, status=choices.HouseholdStatus.MERGED, merged_into=target)

    change(secretariat, household, status=choices.HouseholdStatus.MOVED, merged_into=target, reason="Pindah ke Batang")

    household.refresh_from_db()
    assert (household.status, household.merged_into_id) == (choices.HouseholdStatus.MOVED, None)


def test_reactivation_needs_no_reason(secretariat) -> None:
    household = HouseholdFactory(status=choices.HouseholdStatus.GRADUATED, status_changed_on=dt.date(2024, 1, 1))

    change(secretariat, household, status=choices.HouseholdStatus.ACTIVE, reason="", changed_on=dt.date(2025, 2, 1))

    household.refresh_from_db()
    assert (household.status, household.status_changed_on, household.status_reason) == (
        choices.HouseholdStatus.ACTIVE,
        dt.date(2025, 2, 1),
        "",
    )
