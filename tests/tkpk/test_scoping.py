"""Scope / for_user semantics at the queryset level: which rows each role and region may see."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from csr.models import Allocation, AllocationStatus
from households.models import Household, HouseholdSourceLink, Person, Snapshot
from tests.factories import (
    AllocationFactory,
    HouseholdFactory,
    HouseholdSourceLinkFactory,
    MembershipFactory,
    OrganizationFactory,
    PersonFactory,
    SnapshotFactory,
    UserFactory,
    desa,
    load_kendal,
    load_region,
    user_with_role,
)
from tkpk.models import Membership, Organization, OrganizationKind, PersonalDataAccess, Region
from tkpk.scoping import EMPTY_SCOPE, Cap, Role, scope_for
from tkpk.services import personal_data_access_record

pytestmark = pytest.mark.django_db

KENDAL_DESA = "3324012001"  # Blumah, Plantungan
KENDAL_OTHER_KECAMATAN_DESA = "3324151001"  # Candiroto, Kendal
BATANG_DESA = "3325012001"
KUKAR_DESA = "6402012001"


@pytest.fixture(autouse=True)
def regions() -> None:
    load_kendal()
    load_region("64.02")


@pytest.fixture
def households() -> dict[str, Household]:
    return {
        "kendal": HouseholdFactory(desa=desa(KENDAL_DESA)),
        "kendal_kota": HouseholdFactory(desa=desa(KENDAL_OTHER_KECAMATAN_DESA)),
        "kukar": HouseholdFactory(desa=desa(KUKAR_DESA)),
    }


def pks(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def fresh(user):
    """The same user without the per-object cached scope (as on the next request)."""
    return type(user).objects.get(pk=user.pk)


# ------------------------------------------------------------------------------------------ households


def test_secretariat_sees_households_of_its_kabupaten_only(households: dict[str, Household]) -> None:
    user = user_with_role(Role.SECRETARIAT, "3324")

    assert pks(Household.objects.for_user(user)) == {households["kendal"].pk, households["kendal_kota"].pk}


def test_secretariat_of_kutai_kartanegara_does_not_see_kendal(households: dict[str, Household]) -> None:
    user = user_with_role(Role.SECRETARIAT, "6402")
    assert pks(Household.objects.for_user(user)) == {households["kukar"].pk}


def test_province_secretariat_sees_every_kabupaten_of_the_province(households: dict[str, Household]) -> None:
    load_region("33.25")
    batang = HouseholdFactory(desa=desa(BATANG_DESA))
    user = user_with_role(Role.SECRETARIAT, "33")

    visible = pks(Household.objects.for_user(user))

    assert visible == {households["kendal"].pk, households["kendal_kota"].pk, batang.pk}
    assert households["kukar"].pk not in visible


def test_opd_officer_sees_the_households_of_its_region(households: dict[str, Household]) -> None:
    user = user_with_role(Role.OPD_OFFICER, "3324")
    assert pks(Household.objects.for_user(user)) == {households["kendal"].pk, households["kendal_kota"].pk}


def test_partner_sees_only_households_allocated_to_its_organization(households: dict[str, Household]) -> None:
    partner = user_with_role(Role.PARTNER, "3324")
    other_company = OrganizationFactory(company=True)
    AllocationFactory(organization=partner.test_organization, household=households["kendal"])
    AllocationFactory(organization=other_company, household=households["kendal_kota"])

    assert pks(Household.objects.for_user(partner)) == {households["kendal"].pk}
    assert pks(Allocation.objects.for_user(partner)) == set(
        Allocation.objects.filter(organization=partner.test_organization).values_list("pk", flat=True)
    )


def test_partner_without_allocations_sees_nothing(households: dict[str, Household]) -> None:
    partner = user_with_role(Role.PARTNER, "3324")
    AllocationFactory(household=households["kendal"])  # another company's target
    assert not Household.objects.for_user(partner).exists()


def test_partner_no_longer_sees_a_household_released_back_to_the_pool(households: dict[str, Household]) -> None:
    partner = user_with_role(Role.PARTNER, "3324")
    kept = AllocationFactory(organization=partner.test_organization, household=households["kendal"])
    AllocationFactory(
        organization=partner.test_organization, household=households["kendal_kota"], status=AllocationStatus.RELEASED
    )

    assert pks(Household.objects.for_user(partner)) == {households["kendal"].pk}
    # Its own allocation records (released ones too) stay visible as its history.
    assert len(pks(Allocation.objects.for_user(partner))) == 2
    kept.status = AllocationStatus.RELEASED
    kept.save()
    assert not Household.objects.for_user(partner).exists()


def test_partner_does_not_see_an_allocation_outside_its_region(households: dict[str, Household]) -> None:
    partner = user_with_role(Role.PARTNER, "3324")
    AllocationFactory(organization=partner.test_organization, household=households["kukar"])
    assert not Household.objects.for_user(partner).exists()


def test_two_users_of_one_company_see_the_same_allocations(households: dict[str, Household]) -> None:
    first = user_with_role(Role.PARTNER, "3324")
    second = user_with_role(Role.PARTNER, organization=first.test_organization)
    AllocationFactory(organization=first.test_organization, household=households["kendal"])

    assert pks(Household.objects.for_user(second)) == {households["kendal"].pk}


def test_leadership_opens_no_household_but_counts_its_region(households: dict[str, Household]) -> None:
    user = user_with_role(Role.LEADERSHIP, "3324")

    assert not Household.objects.for_user(user).exists()
    assert pks(Household.objects.for_aggregates(user)) == {households["kendal"].pk, households["kendal_kota"].pk}
    assert not Person.objects.for_user(user).exists()


def test_for_aggregates_equals_for_user_for_other_roles(households: dict[str, Household]) -> None:
    user = user_with_role(Role.SECRETARIAT, "6402")
    assert (
        pks(Household.objects.for_aggregates(user)) == pks(Household.objects.for_user(user)) == {households["kukar"].pk}
    )


def test_superuser_sees_everything(households: dict[str, Household]) -> None:
    admin = UserFactory(is_superuser=True, is_staff=True)

    assert pks(Household.objects.for_user(admin)) == {h.pk for h in households.values()}
    assert Organization.objects.for_user(admin).count() == Organization.objects.count()
    assert scope_for(admin).can(Cap.REGISTRY_REVEAL_ID)


def test_user_without_membership_sees_nothing(households: dict[str, Household]) -> None:
    user = UserFactory(is_staff=True)

    assert scope_for(user).grants == ()
    assert not Household.objects.for_user(user).exists()
    assert not Household.objects.for_aggregates(user).exists()
    assert not Organization.objects.for_user(user).exists()
    assert not scope_for(user).can(Cap.REGISTRY_VIEW)


@pytest.mark.parametrize("user", [None, AnonymousUser()], ids=["none", "anonymous"])
def test_anonymous_sees_nothing(user, households: dict[str, Household]) -> None:
    assert scope_for(user) is EMPTY_SCOPE
    assert not Household.objects.for_user(user).exists()


def test_deactivated_user_sees_nothing(households: dict[str, Household]) -> None:
    user = user_with_role(Role.SECRETARIAT, "3324", is_active=False)
    assert not Household.objects.for_user(user).exists()


def test_two_memberships_give_the_union(households: dict[str, Household]) -> None:
    user = user_with_role(Role.OPD_OFFICER, "3324")
    MembershipFactory(
        user=user,
        organization=OrganizationFactory(opd=True, region=Region.objects.get(code="6402")),
        role=Role.OPD_OFFICER,
    )
    user = fresh(user)

    assert pks(Household.objects.for_user(user)) == {h.pk for h in households.values()}
    assert scope_for(user).region_codes == ["3324", "6402"]


def test_partner_with_two_companies_sees_both_allocations(households: dict[str, Household]) -> None:
    partner = user_with_role(Role.PARTNER, "3324")
    second_company = OrganizationFactory(company=True)
    MembershipFactory(user=partner, organization=second_company, role=Role.PARTNER)
    AllocationFactory(organization=partner.test_organization, household=households["kendal"])
    AllocationFactory(organization=second_company, household=households["kendal_kota"])
    AllocationFactory(household=households["kendal"])  # a third company, not this user's

    assert pks(Household.objects.for_user(fresh(partner))) == {households["kendal"].pk, households["kendal_kota"].pk}


def test_partner_and_leadership_union_keeps_rows_of_the_partner_only(households: dict[str, Household]) -> None:
    user = user_with_role(Role.PARTNER, "3324")
    MembershipFactory(user=user, organization=OrganizationFactory(secretariat=True), role=Role.LEADERSHIP)
    AllocationFactory(organization=user.test_organization, household=households["kendal"])
    user = fresh(user)

    assert pks(Household.objects.for_user(user)) == {households["kendal"].pk}
    assert pks(Household.objects.for_aggregates(user)) == {households["kendal"].pk, households["kendal_kota"].pk}


def test_inactive_organization_grants_nothing(households: dict[str, Household]) -> None:
    user = user_with_role(Role.SECRETARIAT, "3324")
    Organization.objects.filter(pk=user.test_organization.pk).update(is_active=False)
    user = fresh(user)

    assert scope_for(user).grants == ()
    assert not Household.objects.for_user(user).exists()
    assert not scope_for(user).can(Cap.REGISTRY_VIEW)


def test_inactive_organization_drops_out_of_a_union(households: dict[str, Household]) -> None:
    user = user_with_role(Role.SECRETARIAT, "3324")
    closed = OrganizationFactory(secretariat=True, region=Region.objects.get(code="6402"), is_active=False)
    MembershipFactory(user=user, organization=closed, role=Role.SECRETARIAT)
    user = fresh(user)

    assert pks(Household.objects.for_user(user)) == {households["kendal"].pk, households["kendal_kota"].pk}


def test_scope_is_cached_per_user_object(households: dict[str, Household]) -> None:
    user = user_with_role(Role.SECRETARIAT, "3324")
    first = scope_for(user)
    Membership.objects.filter(user=user).delete()

    assert scope_for(user) is first  # same request: same scope
    assert scope_for(fresh(user)).grants == ()  # next request: recomputed


# ------------------------------------------------------------------------------- persons and provenance


def test_persons_follow_their_household_scope(households: dict[str, Household]) -> None:
    kendal_member = PersonFactory(household=households["kendal"])
    PersonFactory(household=households["kukar"])
    partner = user_with_role(Role.PARTNER, "3324")
    unallocated_member = PersonFactory(household=households["kendal_kota"])
    AllocationFactory(organization=partner.test_organization, household=households["kendal"])

    secretariat = user_with_role(Role.SECRETARIAT, "3324")
    assert pks(Person.objects.for_user(secretariat)) == {kendal_member.pk, unallocated_member.pk}
    assert pks(Person.objects.for_user(partner)) == {kendal_member.pk}


def test_source_links_are_for_secretariat_and_opd_only(households: dict[str, Household]) -> None:
    link = HouseholdSourceLinkFactory(household=households["kendal"])
    HouseholdSourceLinkFactory(household=households["kukar"])
    partner = user_with_role(Role.PARTNER, "3324")
    AllocationFactory(organization=partner.test_organization, household=households["kendal"])

    assert pks(HouseholdSourceLink.objects.for_user(user_with_role(Role.OPD_OFFICER, "3324"))) == {link.pk}
    assert not HouseholdSourceLink.objects.for_user(partner).exists()


def test_snapshots_are_for_the_secretariat_of_their_region() -> None:
    kendal = SnapshotFactory(region=Region.objects.get(code="3324"))
    national = SnapshotFactory(region=None)
    SnapshotFactory(region=Region.objects.get(code="6402"))

    assert pks(Snapshot.objects.for_user(user_with_role(Role.SECRETARIAT, "3324"))) == {kendal.pk, national.pk}
    assert not Snapshot.objects.for_user(user_with_role(Role.OPD_OFFICER, "3324")).exists()


# ------------------------------------------------------------------------------ organizations, members


def test_secretariat_sees_organizations_of_its_region() -> None:
    secretariat = user_with_role(Role.SECRETARIAT, "3324")
    opd = OrganizationFactory(opd=True)
    company = OrganizationFactory(company=True)
    OrganizationFactory(opd=True, region=Region.objects.get(code="6402"))

    assert pks(Organization.objects.for_user(secretariat)) == {secretariat.test_organization.pk, opd.pk, company.pk}


def test_province_secretariat_sees_organizations_of_its_kabupaten() -> None:
    province = user_with_role(Role.SECRETARIAT, "33")
    kendal_opd = OrganizationFactory(opd=True)
    OrganizationFactory(opd=True, region=Region.objects.get(code="6402"))

    assert pks(Organization.objects.for_user(province)) == {province.test_organization.pk, kendal_opd.pk}


@pytest.mark.parametrize("role", [Role.OPD_OFFICER, Role.PARTNER])
def test_opd_and_partner_see_only_their_own_organization(role: str) -> None:
    user = user_with_role(role, "3324")
    OrganizationFactory(opd=True)
    OrganizationFactory(company=True)

    assert pks(Organization.objects.for_user(user)) == {user.test_organization.pk}


def test_secretariat_sees_memberships_of_its_region_others_none() -> None:
    secretariat = user_with_role(Role.SECRETARIAT, "3324")
    opd_officer = user_with_role(Role.OPD_OFFICER, "3324")
    user_with_role(Role.OPD_OFFICER, "6402")

    visible = set(Membership.objects.for_user(secretariat).values_list("user_id", flat=True))
    assert visible == {secretariat.pk, opd_officer.pk}
    assert not Membership.objects.for_user(opd_officer).exists()
    assert not Membership.objects.for_user(user_with_role(Role.LEADERSHIP, "3324")).exists()


def test_regions_are_visible_within_the_area_and_its_ancestors() -> None:
    user = user_with_role(Role.OPD_OFFICER, "3324")
    visible = Region.objects.for_user(user)

    assert visible.filter(code="33").exists()  # ancestor
    assert visible.filter(code=KENDAL_DESA).exists()
    assert not visible.filter(code__startswith="64").exists()
    assert visible.count() == 1 + 1 + 20 + 286


def test_personal_data_access_log_is_for_the_secretariat_of_the_region() -> None:
    secretariat = user_with_role(Role.SECRETARIAT, "3324")
    kendal = personal_data_access_record(
        user=secretariat, action="view_household", object_type="household", object_ids=[1], region_code=KENDAL_DESA
    )
    personal_data_access_record(
        user=secretariat, action="view_household", object_type="household", object_ids=[2], region_code=KUKAR_DESA
    )

    assert pks(PersonalDataAccess.objects.for_user(secretariat)) == {kendal.pk}
    assert not PersonalDataAccess.objects.for_user(user_with_role(Role.OPD_OFFICER, "3324")).exists()


# --------------------------------------------------------------------------------------- capabilities


@pytest.mark.parametrize(
    ("role", "registry", "reveal", "admin", "dashboard"),
    [
        (Role.SECRETARIAT, True, True, True, True),
        (Role.OPD_OFFICER, True, False, False, True),
        (Role.PARTNER, True, False, False, False),
        (Role.LEADERSHIP, False, False, False, True),
    ],
)
def test_capabilities_by_role(role: str, registry: bool, reveal: bool, admin: bool, dashboard: bool) -> None:
    scope = scope_for(user_with_role(role, "3324"))
    assert scope.primary_role == role
    assert (
        scope.can(Cap.REGISTRY_VIEW),
        scope.can(Cap.REGISTRY_REVEAL_ID),
        scope.can(Cap.ADMIN),
        scope.can(Cap.DASHBOARD_VIEW),
    ) == (registry, reveal, admin, dashboard)


def test_user_with_role_builds_the_expected_organization() -> None:
    secretariat = user_with_role(Role.SECRETARIAT, "3324")
    partner = user_with_role(Role.PARTNER, "6402")

    assert secretariat.is_staff and not partner.is_staff
    assert secretariat.test_organization.kind == OrganizationKind.SECRETARIAT
    assert (partner.test_organization.kind, partner.test_organization.region_id) == (OrganizationKind.COMPANY, "6402")
    assert partner.test_organization.sector
    assert partner.check_password("pass-1234-test")
