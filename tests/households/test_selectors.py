"""Registry reads: search filters, scope limits, 404 outside scope and change history."""

from __future__ import annotations

import datetime as dt

import pghistory
import pytest
from django.http import Http404

from households import choices
from households.models import Household
from households.selectors import HouseholdFilters, household_get, household_history, household_search, person_get
from households.services import household_change_status
from tests.factories import (
    AllocationFactory,
    HouseholdFactory,
    HouseholdSourceLinkFactory,
    PersonFactory,
    desa,
    load_kendal,
    load_region,
    user_with_role,
)
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

PLANTUNGAN_DESA = "3324012001"  # Blumah, kecamatan Plantungan 33.24.01
PLANTUNGAN_OTHER_DESA = "3324012002"  # Kediten, same kecamatan
KENDAL_KOTA_DESA = "3324151001"  # Candiroto, kecamatan Kendal 33.24.15
KUKAR_DESA = "6402012001"


@pytest.fixture(autouse=True)
def regions() -> None:
    load_kendal()
    load_region("64.02")


@pytest.fixture
def secretariat():
    return user_with_role(Role.SECRETARIAT, "3324")


def search(user, **filters) -> list[Household]:
    return list(household_search(user=user, filters=HouseholdFilters(**filters)))


def ids(households) -> list[int]:
    return [h.pk for h in households]


# --------------------------------------------------------------------------------------------- name


def test_search_by_head_name_is_case_insensitive(secretariat) -> None:
    siti = HouseholdFactory(head_name="SITI AMINAH")
    HouseholdFactory(head_name="Budi Santoso")

    assert ids(search(secretariat, name="aminah")) == [siti.pk]
    assert ids(search(secretariat, name="  Siti Ami ")) == [siti.pk]


def test_search_by_member_name(secretariat) -> None:
    household = HouseholdFactory(head_name="Slamet Riyadi")
    PersonFactory(household=household, name="Dewi Lestari")
    HouseholdFactory(head_name="Sri Wahyuni")

    assert ids(search(secretariat, name="LESTARI")) == [household.pk]


def test_search_by_name_returns_each_household_once(secretariat) -> None:
    household = HouseholdFactory(head_name="Parto Wiyono")
    PersonFactory(household=household, name="Parto Wiyono")
    PersonFactory(household=household, name="Sumi Wiyono")

    assert ids(search(secretariat, name="wiyono")) == [household.pk]


def test_search_without_a_match_is_empty(secretariat) -> None:
    HouseholdFactory(head_name="Siti Aminah")
    assert search(secretariat, name="Tukiyem") == []


# ---------------------------------------------------------------------------------------------- NIK


def test_search_by_exact_nik(secretariat) -> None:
    person = PersonFactory(nik="3324015501900001")
    PersonFactory(nik="3324015501900002")

    assert ids(search(secretariat, nik="3324015501900001")) == [person.household_id]
    assert ids(search(secretariat, nik=" 3324 0155 0190 0001 ")) == [person.household_id]
    assert ids(search(secretariat, nik="'3324015501900001")) == [person.household_id]


def test_search_by_partial_nik_finds_nothing(secretariat) -> None:
    PersonFactory(nik="3324015501900001")
    assert search(secretariat, nik="332401550190") == []


# ------------------------------------------------------------------------------------- ID Keluarga


def test_search_by_id_keluarga(secretariat) -> None:
    link = HouseholdSourceLinkFactory(external_id="P3KE3324000123")
    HouseholdSourceLinkFactory(external_id="P3KE3324000124")

    assert ids(search(secretariat, id_keluarga="P3KE3324000123")) == [link.household_id]
    assert ids(search(secretariat, id_keluarga=" P3KE3324000123 ")) == [link.household_id]
    assert search(secretariat, id_keluarga="P3KE3324") == []


def test_search_by_id_keluarga_is_not_a_no_kk(secretariat) -> None:
    household = HouseholdFactory(no_kk="3324010903150001")
    assert search(secretariat, id_keluarga=household.no_kk) == []


# --------------------------------------------------------------------------------------------- region


@pytest.fixture
def spread(secretariat) -> dict[str, Household]:
    return {
        "blumah": HouseholdFactory(desa=desa(PLANTUNGAN_DESA)),
        "kediten": HouseholdFactory(desa=desa(PLANTUNGAN_OTHER_DESA)),
        "candiroto": HouseholdFactory(desa=desa(KENDAL_KOTA_DESA)),
    }


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("33.24.01", ["blumah", "kediten"]),
        ("332401", ["blumah", "kediten"]),
        ("33.24.15", ["candiroto"]),
        ("3324012001", ["blumah"]),
        ("33.24.01.2002", ["kediten"]),
        ("33.24", ["blumah", "kediten", "candiroto"]),
        ("33", ["blumah", "kediten", "candiroto"]),
        ("33.24.02", []),
    ],
)
def test_search_by_region(secretariat, spread: dict[str, Household], region: str, expected: list[str]) -> None:
    assert ids(search(secretariat, region=region)) == [spread[key].pk for key in expected]


@pytest.mark.parametrize("region", ["33.2", "abc", "33.24.01.20"])
def test_search_by_malformed_region_finds_nothing(secretariat, spread: dict[str, Household], region: str) -> None:
    assert search(secretariat, region=region) == []


# ---------------------------------------------------------------------------------------- desil, status


def test_search_by_desil(secretariat) -> None:
    first = HouseholdFactory(desil=1)
    HouseholdFactory(desil=2)
    HouseholdFactory(desil=None)
    second = HouseholdFactory(desil=1)

    assert ids(search(secretariat, desil=1)) == [first.pk, second.pk]


def test_search_by_status(secretariat) -> None:
    active = HouseholdFactory()
    graduated = HouseholdFactory(status=choices.HouseholdStatus.GRADUATED, status_changed_on=dt.date(2025, 6, 1))

    assert ids(search(secretariat, status=choices.HouseholdStatus.GRADUATED)) == [graduated.pk]
    assert ids(search(secretariat, status=choices.HouseholdStatus.ACTIVE)) == [active.pk]


def test_filters_combine(secretariat) -> None:
    wanted = HouseholdFactory(head_name="Siti Aminah", desil=1, desa=desa(PLANTUNGAN_DESA))
    HouseholdFactory(head_name="Siti Aminah", desil=2, desa=desa(PLANTUNGAN_DESA))
    HouseholdFactory(head_name="Siti Aminah", desil=1, desa=desa(KENDAL_KOTA_DESA))
    HouseholdFactory(head_name="Budi", desil=1, desa=desa(PLANTUNGAN_DESA))

    assert ids(search(secretariat, name="siti", desil=1, region="33.24.01")) == [wanted.pk]


def test_empty_filters_list_the_scope_in_id_order(secretariat) -> None:
    created = [HouseholdFactory() for _ in range(3)]
    HouseholdFactory(desa=desa(KUKAR_DESA))
    assert ids(search(secretariat)) == sorted(h.pk for h in created)


# ---------------------------------------------------------------------------------------------- scope


def test_search_is_limited_to_the_scope(secretariat) -> None:
    kendal = HouseholdFactory(head_name="Siti Aminah")
    kukar = HouseholdFactory(head_name="Siti Aminah", desa=desa(KUKAR_DESA))
    person = PersonFactory(household=kukar, nik="6402015501900001")
    HouseholdSourceLinkFactory(household=kukar, external_id="P3KE6402000001")

    assert ids(search(secretariat, name="siti")) == [kendal.pk]
    assert search(secretariat, nik=person.nik) == []
    assert search(secretariat, id_keluarga="P3KE6402000001") == []
    assert search(secretariat, region="64.02") == []
    kukar_secretariat = user_with_role(Role.SECRETARIAT, "6402")
    assert ids(search(kukar_secretariat, name="siti")) == [kukar.pk]


def test_partner_search_finds_only_its_allocated_households() -> None:
    partner = user_with_role(Role.PARTNER, "3324")
    allocated = HouseholdFactory(head_name="Siti Aminah")
    HouseholdFactory(head_name="Siti Rahayu")
    AllocationFactory(organization=partner.test_organization, household=allocated)

    assert ids(search(partner, name="siti")) == [allocated.pk]


def test_leadership_search_finds_nothing() -> None:
    HouseholdFactory(head_name="Siti Aminah")
    assert search(user_with_role(Role.LEADERSHIP, "3324"), name="siti") == []


# ------------------------------------------------------------------------------------------------ get


def test_household_get_returns_members_and_provenance(secretariat, django_assert_num_queries) -> None:
    household = HouseholdFactory()
    members = [PersonFactory(household=household) for _ in range(2)]
    HouseholdSourceLinkFactory(household=household)

    with django_assert_num_queries(4):  # scope, household, members, links (with source and snapshot)
        found = household_get(user=secretariat, pk=household.pk)
        assert [m.pk for m in found.members.all()] == [m.pk for m in members]
        assert [link.source.code for link in found.source_links.all()] == ["p3ke"]
        assert found.desa.parent.code == "332401"


@pytest.mark.parametrize("role", [Role.SECRETARIAT, Role.OPD_OFFICER, Role.PARTNER, Role.LEADERSHIP])
def test_household_get_is_404_outside_the_scope(role: str) -> None:
    household = HouseholdFactory(desa=desa(KUKAR_DESA))
    with pytest.raises(Http404):
        household_get(user=user_with_role(role, "3324"), pk=household.pk)


def test_household_get_is_404_for_a_partner_without_allocation() -> None:
    household = HouseholdFactory()
    with pytest.raises(Http404):
        household_get(user=user_with_role(Role.PARTNER, "3324"), pk=household.pk)


def test_person_get_follows_the_household_scope(secretariat) -> None:
    person = PersonFactory()
    outsider = PersonFactory(household=HouseholdFactory(desa=desa(KUKAR_DESA)))

    assert person_get(user=secretariat, pk=person.pk) == person
    with pytest.raises(Http404):
        person_get(user=secretariat, pk=outsider.pk)


# -------------------------------------------------------------------------------------------- history
# Inside one test transaction every event has the same pgh_created_at (PostgreSQL now() is the transaction
# start), so these tests pick events by label and event id; the ordering test commits each change.


def events_of(history, model: str, label: str) -> list:
    return sorted((e for e in history if (e.pgh_model, e.pgh_label) == (model, label)), key=lambda e: e.pgh_id)


@pytest.mark.postgres
def test_household_history_includes_member_events_and_the_user(secretariat) -> None:
    household = HouseholdFactory(desil=3)
    PersonFactory(household=household, name="Dewi Lestari")
    with pghistory.context(user=secretariat.pk):
        household.desil = 1
        household.save()

    history = household_history(household=household)

    assert len(history) == 3
    assert len(events_of(history, "households.HouseholdEvent", "insert")) == 1
    assert events_of(history, "households.PersonEvent", "insert")[0].pgh_data["name"] == "Dewi Lestari"
    (update,) = events_of(history, "households.HouseholdEvent", "update")
    assert update.pgh_diff["desil"] == [3, 1]
    assert update.user_id == secretariat.pk
    assert update.pgh_context["user"] == secretariat.pk
    (insert,) = events_of(history, "households.HouseholdEvent", "insert")
    assert insert.user_id is None  # created outside any context


@pytest.mark.postgres
def test_household_history_records_the_status_change_actor(secretariat) -> None:
    household = HouseholdFactory()
    household_change_status(
        actor=secretariat,
        household=household,
        status=choices.HouseholdStatus.GRADUATED,
        changed_on=dt.date(2025, 6, 1),
        reason="Sudah berwirausaha",
    )

    (update,) = events_of(household_history(household=household), "households.HouseholdEvent", "update")
    assert update.user_id == secretariat.pk
    assert update.pgh_context["action"] == "household_change_status"
    assert update.pgh_diff["status"] == ["active", "graduated"]


@pytest.mark.postgres
def test_household_history_is_per_household_and_limited(secretariat) -> None:
    household = HouseholdFactory(desil=1)
    other = HouseholdFactory()
    PersonFactory(household=other)
    for desil in (2, 3, 4):
        household.desil = desil
        household.save()
    other.desil = 9
    other.save()

    history = household_history(household=household)
    assert len(history) == 4
    assert {e.pgh_obj_id for e in history} == {str(household.pk)}
    updates = events_of(history, "households.HouseholdEvent", "update")
    assert [e.pgh_diff["desil"] for e in updates] == [[1, 2], [2, 3], [3, 4]]
    assert len(household_history(household=household, limit=2)) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_household_history_is_newest_first() -> None:
    # Each save commits on its own (as separate requests would), so the events get distinct timestamps.
    user = user_with_role(Role.SECRETARIAT, "3324")
    household = HouseholdFactory(desil=1)
    for desil in (2, 3):
        with pghistory.context(user=user.pk):
            household.desil = desil
            household.save()

    history = household_history(household=household)

    assert [e.pgh_label for e in history] == ["update", "update", "insert"]
    assert [e.pgh_diff["desil"] for e in history[:2]] == [[2, 3], [1, 2]]
    assert [e.user_id for e in history] == [user.pk, user.pk, None]
    assert history[0].pgh_created_at > history[1].pgh_created_at > history[2].pgh_created_at


def test_household_history_is_empty_without_postgresql(secretariat) -> None:
    from django.db import connection

    household = HouseholdFactory()
    history = household_history(household=household)
    if connection.vendor == "postgresql":
        assert [e.pgh_label for e in history] == ["insert"]
    else:
        assert history == []
