"""Allocation rules of csr.services: one partner per household, need and cycle unless the secretariat overrides
with a reason; only the partner's operating area and the actor's (and cycle's) region; the partial unique
indexes under the service; field verification giving households back to the pool or adding them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from csr import selectors, services
from csr.models import (
    Allocation,
    AllocationSource,
    AllocationStatus,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    VerificationResult,
)
from households.models import Household
from tests import factories as f
from tests.csr.rules_world import BLUMAH, World, allocate, build_world, draft_with_targets, outer_transaction
from tkpk.exceptions import DomainError
from tkpk.models import Region, RegionLevel
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

INELIGIBLE = [
    r for r in VerificationResult.values if r not in (VerificationResult.PENDING, VerificationResult.ELIGIBLE)
]


@pytest.fixture(scope="module")
def shared(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with outer_transaction(django_db_blocker):
        with django_db_blocker.unblock():
            f.load_region("33.25")  # Batang, next to Kendal
            built = build_world()
        yield built


@pytest.fixture
def world(shared: World, db: None, settings: Any, tmp_path: Path) -> World:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    shared.cycle.refresh_from_db()
    return shared


def kecamatan(prefix: str, index: int = 0) -> Region:
    return Region.objects.filter(level=RegionLevel.KECAMATAN, code__startswith=prefix).order_by("code")[index]


def first_desa(kec: Region) -> Region:
    found = Region.objects.filter(level=RegionLevel.DESA, code__startswith=kec.code).order_by("code").first()
    assert found is not None
    return found


def allocate_to(world: World, organization: Any, households: list[Household], **kw: Any) -> services.AllocationResult:
    return services.allocations_create(
        actor=kw.pop("actor", world.secretariat),
        cycle=kw.pop("cycle", world.cycle),
        organization=organization,
        assistance_kind=kw.pop("kind", world.kind),
        household_ids=[h.pk for h in households],
        **kw,
    )


def holders(world: World, household: Household, kind: Any = None) -> list[tuple[int, str]]:
    rows = Allocation.objects.active().filter(
        household=household, cycle=world.cycle, assistance_kind=kind or world.kind
    )
    return sorted(rows.values_list("organization_id", "override_reason"))


# ----------------------------------------------------------------------------------------- double allocation


def test_a_second_partner_for_the_same_need_and_cycle_is_skipped(world: World) -> None:
    first = allocate_to(world, world.company, world.households)
    assert (first.created, first.skipped) == (3, 0)
    second = allocate_to(world, world.other_company, world.households[:2])
    assert (second.created, second.taken_by_other, second.skipped) == (0, 2, 2)
    assert second.allocation_ids == []
    assert holders(world, world.households[0]) == [(world.company.pk, "")]
    # Again for the first partner: already allocated here, nothing new.
    again = allocate_to(world, world.company, world.households[:1])
    assert (again.created, again.already_allocated_here, again.taken_by_other) == (0, 1, 0)
    assert Allocation.objects.filter(household=world.households[0]).count() == 1


def test_with_an_override_reason_both_hold_it_and_the_reason_is_on_the_second(world: World) -> None:
    allocate_to(world, world.company, world.households[:1])
    fresh = f.HouseholdFactory(desa=f.desa(BLUMAH), desil=1)
    result = allocate_to(
        world,
        world.other_company,
        [world.households[0], fresh],
        override_reason="  Kebutuhan pangan keluarga besar, dua mitra berbagi.  ",
    )
    assert (result.created, result.taken_by_other) == (2, 0)
    assert holders(world, world.households[0]) == sorted(
        [(world.company.pk, ""), (world.other_company.pk, "Kebutuhan pangan keluarga besar, dua mitra berbagi.")]
    )
    # The reason is recorded only where it was needed: the fresh household is an ordinary allocation.
    assert holders(world, fresh) == [(world.other_company.pk, "")]
    second = Allocation.objects.get(pk__in=result.allocation_ids, household=world.households[0])
    assert second.created_by_id == world.secretariat.pk


def test_the_same_household_for_another_need_or_another_cycle_is_fine(world: World) -> None:
    allocate_to(world, world.company, world.households[:1])
    other_need = allocate_to(world, world.other_company, world.households[:1], kind=world.other_kind)
    later_cycle = f.CsrCycleFactory(year=world.cycle.year + 1)
    other_cycle = allocate_to(world, world.other_company, world.households[:1], cycle=later_cycle)
    assert (other_need.created, other_cycle.created) == (1, 1)
    assert holders(world, world.households[0]) == [(world.company.pk, "")]
    assert holders(world, world.households[0], world.other_kind) == [(world.other_company.pk, "")]
    assert Allocation.objects.filter(household=world.households[0], status=AllocationStatus.ACTIVE).count() == 3


def test_only_the_secretariat_of_the_cycle_allocates(world: World) -> None:
    for user in (world.company_user, world.other_secretariat, world.opd_officer, world.leadership):
        with pytest.raises(DomainError) as caught:
            allocate_to(world, world.company, world.households, actor=user)
        assert (caught.value.code, caught.value.message) == (
            "forbidden",
            "Hanya sekretariat TKPK wilayah siklus ini yang dapat melakukan tindakan ini.",
        )
    assert not Allocation.objects.exists()


def test_allocation_stops_once_the_cycle_is_in_implementation(world: World) -> None:
    world.cycle.status = "implementation"
    world.cycle.save(update_fields=["status"])
    with pytest.raises(DomainError) as caught:
        allocate_to(world, world.company, world.households)
    assert (caught.value.code, caught.value.message) == (
        "cycle_state",
        "Siklus ini sudah dalam pelaksanaan; alokasi tidak dapat ditambah.",
    )


def test_only_partners_of_the_region_receive_allocations(world: World) -> None:
    opd = world.opd_officer.test_organization
    with pytest.raises(DomainError) as not_partner:
        allocate_to(world, opd, world.households)
    assert (not_partner.value.code, not_partner.value.message) == (
        "not_partner",
        "Organisasi ini bukan mitra (perusahaan/lembaga).",
    )
    kukar_company = f.OrganizationFactory(company=True, region=f.region("6402"))
    with pytest.raises(DomainError) as elsewhere:
        allocate_to(world, kukar_company, world.households)
    assert elsewhere.value.code == "partner_out_of_region"
    assert not Allocation.objects.exists()


# ------------------------------------------------------------------------------------------------- areas


def test_outside_the_partners_operating_area_is_not_allocated(world: World) -> None:
    plantungan, other_kec = kecamatan("3324", 0), kecamatan("3324", 1)
    assert BLUMAH.startswith(plantungan.code)
    world.company.area.set([other_kec])
    inside = f.HouseholdFactory(desa=first_desa(other_kec), desil=1)
    result = allocate_to(world, world.company, [*world.households, inside])
    assert (result.created, result.outside_area) == (1, 3)
    assert list(Allocation.objects.values_list("household_id", flat=True)) == [inside.pk]
    # A desa as operating area counts too.
    world.company.area.set([f.desa(BLUMAH)])
    assert allocate_to(world, world.company, world.households).created == 3


def test_households_outside_the_actors_region_are_not_allocated(world: World) -> None:
    batang_kec = kecamatan("3325", 0)
    batang = f.HouseholdFactory(desa=first_desa(batang_kec), desil=1)
    kukar = f.HouseholdFactory(desa=first_desa(kecamatan("6402", 0)), desil=1)
    # Even when the partner also works there.
    world.company.area.set([kecamatan("3324", 0), batang_kec])
    result = allocate_to(world, world.company, [world.households[0], batang, kukar, Household(pk=10**9)])
    assert (result.created, result.outside_area, result.not_found) == (1, 2, 1)
    assert list(Allocation.objects.values_list("household_id", flat=True)) == [world.households[0].pk]


def test_a_province_secretariat_allocates_only_inside_the_cycles_region(world: World) -> None:
    """A Central Java secretariat may manage a Kendal cycle, but a Batang household is not a Kendal target."""
    province = f.user_with_role(Role.SECRETARIAT, region_code="33")
    batang_kec = kecamatan("3325", 0)
    batang = f.HouseholdFactory(desa=first_desa(batang_kec), desil=1)
    world.company.area.set([kecamatan("3324", 0), batang_kec])
    result = allocate_to(world, world.company, [world.households[0], batang], actor=province)
    assert (result.created, result.outside_area) == (1, 1)
    assert not Allocation.objects.filter(household=batang).exists()


@pytest.mark.parametrize("status", ["graduated", "moved", "deceased", "merged"])
def test_households_no_longer_active_are_not_allocated(world: World, status: str) -> None:
    extra: dict[str, Any] = {
        "graduated": {"status_changed_on": dt.date.today()},
        "merged": {"merged_into": world.households[1]},
    }.get(status, {})
    gone = f.HouseholdFactory(desa=f.desa(BLUMAH), desil=1, status=status, **extra)
    result = allocate_to(world, world.company, [world.households[0], gone])
    assert (result.created, result.inactive, result.skipped) == (1, 1, 1)
    assert not Allocation.objects.filter(household=gone).exists()


# ----------------------------------------------------------------------------------------- unique indexes


def create(world: World, organization: Any, household: Household, **kw: Any) -> Allocation:
    with transaction.atomic():
        return Allocation.objects.create(
            organization=organization,
            household=household,
            cycle=world.cycle,
            assistance_kind=kw.pop("kind", world.kind),
            **kw,
        )


def test_the_partial_unique_indexes_refuse_what_the_service_skips(world: World) -> None:
    """What two concurrent allocations would write: the second insert fails in the database itself."""
    household = world.households[0]
    first = create(world, world.company, household)
    with pytest.raises(IntegrityError):
        create(world, world.company, household)  # the same partner twice
    with pytest.raises(IntegrityError):
        create(world, world.other_company, household)  # a second partner without a reason
    with pytest.raises(IntegrityError):
        create(world, world.company, household, override_reason="ganda")  # own twice, even with a reason
    shared_one = create(world, world.other_company, household, override_reason="Disetujui rapat TKPK")
    assert Allocation.objects.filter(household=household).count() == 2
    # Released rows are out of both indexes: the household can be given again.
    Allocation.objects.filter(pk__in=[first.pk, shared_one.pk]).update(status=AllocationStatus.RELEASED)
    create(world, world.company, household)
    create(world, world.other_company, household, kind=world.other_kind)
    assert Allocation.objects.active().filter(household=household).count() == 2


def test_a_conflicting_row_written_meanwhile_is_counted_as_taken(world: World, monkeypatch: Any) -> None:
    """The service reads the holders, then inserts; a row another transaction committed in between makes the
    insert conflict, which is skipped and counted (never an error, never a second holder)."""
    household = world.households[0]
    real_bulk_create = Allocation.objects.bulk_create

    def racing_bulk_create(rows: list[Allocation], **kw: Any) -> list[Allocation]:
        create(world, world.other_company, household)  # the concurrent winner
        return real_bulk_create(rows, **kw)

    monkeypatch.setattr(Allocation.objects, "bulk_create", racing_bulk_create)
    result = allocate_to(world, world.company, world.households)
    assert (result.created, result.taken_by_other) == (2, 1)
    assert holders(world, household) == [(world.other_company.pk, "")]
    assert sorted(Allocation.objects.filter(pk__in=result.allocation_ids).values_list("household_id", flat=True)) == (
        sorted(h.pk for h in world.households[1:])
    )


# ------------------------------------------------------------------------------------ field verification


def submitted(world: World, **attrs: Any) -> Proposal:
    proposal = draft_with_targets(world, **attrs)
    return services.proposal_transition(actor=world.company_user, proposal=proposal, action="submit")


@pytest.mark.parametrize("result", INELIGIBLE)
def test_ineligible_after_verification_goes_back_to_the_pool(world: World, result: str) -> None:
    proposal = submitted(world, households=world.households[:1])
    target = proposal.targets.get()
    assert target.allocation is not None
    services.target_verify(actor=world.secretariat, target=target, result=result, note="Dicek bersama kader desa")
    allocation = Allocation.objects.get(pk=target.allocation_id)
    assert allocation.status == AllocationStatus.RELEASED
    assert allocation.released_at is not None
    label = VerificationResult(result).label
    assert allocation.released_reason == f"Verifikasi lapangan: {label}. Dicek bersama kader desa"
    assert ProposalTarget.objects.get(pk=target.pk).verification == result
    # Back in the pool: another partner gets it without an override.
    again = allocate_to(world, world.other_company, world.households[:1])
    assert (again.created, again.taken_by_other) == (1, 0)
    assert holders(world, world.households[0]) == [(world.other_company.pk, "")]


def test_eligible_keeps_the_allocation(world: World) -> None:
    proposal = submitted(world, households=world.households[:1])
    target = proposal.targets.get()
    services.target_verify(actor=world.secretariat, target=target, result=VerificationResult.ELIGIBLE)
    assert Allocation.objects.get(pk=target.allocation_id).status == AllocationStatus.ACTIVE
    assert allocate_to(world, world.other_company, world.households[:1]).taken_by_other == 1


def test_a_corrected_verification_takes_the_household_back_from_the_pool(world: World) -> None:
    """Ineligible, then corrected to eligible: the allocation is active again (the partner may deliver)."""
    proposal = submitted(world, households=world.households[:1])
    target = proposal.targets.get()
    services.target_verify(actor=world.secretariat, target=target, result=VerificationResult.MOVED)
    services.target_verify(actor=world.secretariat, target=target, result=VerificationResult.ELIGIBLE)
    allocation = Allocation.objects.get(pk=target.allocation_id)
    assert (allocation.status, allocation.released_at, allocation.released_reason) == (
        AllocationStatus.ACTIVE,
        None,
        "",
    )
    assert holders(world, world.households[0]) == [(world.company.pk, "")]


def test_a_corrected_verification_after_another_partner_took_it_keeps_both_with_a_reason(world: World) -> None:
    proposal = submitted(world, households=world.households[:1])
    target = proposal.targets.get()
    services.target_verify(actor=world.secretariat, target=target, result=VerificationResult.NOT_FOUND)
    allocate_to(world, world.other_company, world.households[:1])
    services.target_verify(actor=world.secretariat, target=target, result=VerificationResult.ELIGIBLE)
    allocation = Allocation.objects.get(pk=target.allocation_id)
    assert allocation.status == AllocationStatus.ACTIVE
    assert allocation.override_reason == "Verifikasi ulang: layak"
    assert holders(world, world.households[0]) == sorted(
        [(world.company.pk, "Verifikasi ulang: layak"), (world.other_company.pk, "")]
    )


def test_the_target_is_linked_to_the_allocation_of_the_proposals_need(world: World) -> None:
    """A household allocated to the partner for two needs: the target of a proposal of one need holds that
    allocation, and an ineligible result gives back that one only."""
    household = world.households[0]
    allocate_to(world, world.company, [household], kind=world.kind)
    rtlh = allocate_to(world, world.company, [household], kind=world.other_kind)
    proposal = f.ProposalFactory(organization=world.company, cycle=world.cycle, assistance_kind=world.other_kind)
    services.proposal_update(actor=world.company_user, proposal=proposal, household_ids=[household.pk])
    target = proposal.targets.get()
    assert target.allocation_id == rtlh.allocation_ids[0]
    services.proposal_transition(actor=world.company_user, proposal=proposal, action="submit")
    services.target_verify(actor=world.secretariat, target=target, result=VerificationResult.ALREADY_HELPED)
    assert Allocation.objects.get(pk=rtlh.allocation_ids[0]).status == AllocationStatus.RELEASED
    assert holders(world, household, world.kind) == [(world.company.pk, "")]


def additional_proposal(world: World, households: list[Household] | None = None) -> Proposal:
    proposal = draft_with_targets(world, households=world.households[:1] if households is None else households)
    services.proposal_update(
        actor=world.company_user,
        proposal=proposal,
        additional=[
            services.AdditionalTarget(
                reason="Lansia tunggal belum terdata", name="Mbah Sarinah", address="Dusun Krajan", desa=f.desa(BLUMAH)
            )
        ],
    )
    return services.proposal_transition(actor=world.company_user, proposal=proposal, action="submit")


def test_an_eligible_additional_target_linked_to_the_registry_becomes_an_allocation(world: World) -> None:
    proposal = additional_proposal(world)
    extra = proposal.targets.get(is_additional=True)
    registry = f.HouseholdFactory(desa=f.desa(BLUMAH), desil=1, head_name="Sarinah")
    with pytest.raises(DomainError) as unlinked:
        services.target_verify(actor=world.secretariat, target=extra, result=VerificationResult.ELIGIBLE)
    assert (unlinked.value.code, unlinked.value.message) == (
        "not_linked",
        "Tautkan sasaran tambahan ke keluarga di registri sebelum menyatakannya layak.",
    )
    services.target_verify(
        actor=world.secretariat, target=extra, result=VerificationResult.ELIGIBLE, household=registry
    )
    extra.refresh_from_db()
    assert extra.household_id == registry.pk
    allocation = extra.allocation
    assert allocation is not None
    assert (
        allocation.organization_id,
        allocation.household_id,
        allocation.cycle_id,
        allocation.assistance_kind_id,
        allocation.source,
        allocation.status,
        allocation.override_reason,
        allocation.note,
    ) == (
        world.company.pk,
        registry.pk,
        world.cycle.pk,
        world.kind.pk,
        AllocationSource.PROPOSAL,
        AllocationStatus.ACTIVE,
        "",
        "Lansia tunggal belum terdata",
    )
    # Now the partner's household: another partner is skipped for this need.
    assert allocate_to(world, world.other_company, [registry]).taken_by_other == 1


def test_an_eligible_additional_target_another_partner_holds_is_kept_with_a_reason(world: World) -> None:
    proposal = additional_proposal(world)
    extra = proposal.targets.get(is_additional=True)
    registry = f.HouseholdFactory(desa=f.desa(BLUMAH), desil=1)
    allocate_to(world, world.other_company, [registry])
    services.target_verify(
        actor=world.secretariat, target=extra, result=VerificationResult.ELIGIBLE, household=registry
    )
    assert holders(world, registry) == sorted(
        [(world.other_company.pk, ""), (world.company.pk, "Usulan tambahan mitra yang terverifikasi layak")]
    )


def test_an_additional_target_the_partner_already_holds_reuses_its_allocation(world: World) -> None:
    """Linking an additional family to a household already allocated to this partner for the need must not
    create a second allocation (the unique index would refuse it)."""
    proposal = additional_proposal(world, households=world.households[:1])
    allocate(world, households=world.households[1:2])  # allocated, but not named in the proposal
    extra = proposal.targets.get(is_additional=True)
    services.target_verify(
        actor=world.secretariat, target=extra, result=VerificationResult.ELIGIBLE, household=world.households[1]
    )
    extra.refresh_from_db()
    mine = Allocation.objects.active().get(
        organization=world.company, household=world.households[1], assistance_kind=world.kind
    )
    assert extra.allocation_id == mine.pk
    assert Allocation.objects.filter(household=world.households[1]).count() == 1


def test_returned_and_resubmitted_an_additional_target_verified_again_keeps_one_allocation(world: World) -> None:
    """Eligible additional target → allocation; the proposal is returned, edited and submitted again (its kept
    targets keep their verification); verifying the same family eligible again must not allocate twice."""
    proposal = additional_proposal(world)
    extra = proposal.targets.get(is_additional=True)
    registry = f.HouseholdFactory(desa=f.desa(BLUMAH), desil=1)
    services.target_verify(
        actor=world.secretariat, target=extra, result=VerificationResult.ELIGIBLE, household=registry
    )
    services.proposal_transition(actor=world.secretariat, proposal=proposal, action="return", note="Tambah jadwal")
    services.proposal_update(
        actor=world.company_user, proposal=proposal, household_ids=[world.households[0].pk], title="Jadwal baru"
    )
    services.proposal_transition(actor=world.company_user, proposal=proposal, action="submit")
    again = proposal.targets.get(household=registry)
    first_allocation = Allocation.objects.get(household=registry)
    assert (again.is_additional, again.verification, again.allocation_id) == (True, "eligible", first_allocation.pk)
    services.target_verify(actor=world.secretariat, target=again, result=VerificationResult.ELIGIBLE)
    again.refresh_from_db()
    assert Allocation.objects.filter(household=registry).count() == 1
    assert again.allocation_id == Allocation.objects.get(household=registry).pk


def test_relinking_an_additional_target_gives_the_earlier_household_back(world: World) -> None:
    proposal = additional_proposal(world)
    extra = proposal.targets.get(is_additional=True)
    wrong, right = f.HouseholdFactory.create_batch(2, desa=f.desa(BLUMAH), desil=1)
    services.target_verify(actor=world.secretariat, target=extra, result=VerificationResult.ELIGIBLE, household=wrong)
    first = Allocation.objects.get(household=wrong)
    services.target_verify(actor=world.secretariat, target=extra, result=VerificationResult.ELIGIBLE, household=right)
    extra.refresh_from_db()
    first.refresh_from_db()
    assert (first.status, first.released_reason) == (
        AllocationStatus.RELEASED,
        "Sasaran tambahan ditautkan ke keluarga lain.",
    )
    assert extra.household_id == right.pk
    assert extra.allocation is not None
    assert (extra.allocation.household_id, extra.allocation.status) == (right.pk, AllocationStatus.ACTIVE)
    assert holders(world, wrong) == []


def test_linking_is_for_additional_targets_in_the_secretariats_region(world: World) -> None:
    proposal = additional_proposal(world)
    allocated = proposal.targets.get(is_additional=False)
    extra = proposal.targets.get(is_additional=True)
    with pytest.raises(DomainError) as not_additional:
        services.target_verify(
            actor=world.secretariat,
            target=allocated,
            result=VerificationResult.ELIGIBLE,
            household=world.households[1],
        )
    assert not_additional.value.code == "not_additional"
    kukar = f.HouseholdFactory(desa=first_desa(kecamatan("6402", 0)), desil=1)
    with pytest.raises(DomainError) as far:
        services.target_verify(
            actor=world.secretariat, target=extra, result=VerificationResult.ELIGIBLE, household=kukar
        )
    assert (far.value.code, far.value.message) == ("household_not_found", "Keluarga tidak ditemukan di wilayah Anda.")
    with pytest.raises(DomainError) as twice:
        services.target_verify(
            actor=world.secretariat, target=extra, result=VerificationResult.ELIGIBLE, household=world.households[0]
        )
    assert twice.value.code == "duplicate_target"
    assert not Allocation.objects.filter(source=AllocationSource.PROPOSAL).exists()


def test_an_agreed_proposal_delivers_only_to_eligible_targets(world: World) -> None:
    proposal = submitted(world, households=world.households[:2])
    first, second = proposal.targets.order_by("id")
    services.target_verify(actor=world.secretariat, target=first, result=VerificationResult.ELIGIBLE)
    services.target_verify(actor=world.secretariat, target=second, result=VerificationResult.DECEASED)
    services.proposal_transition(actor=world.secretariat, proposal=proposal, action="verify")
    agreed = services.proposal_transition(
        actor=world.secretariat,
        proposal=proposal,
        action="agree",
        number="PKS/ALOK/1",
        signed_on=dt.date.today(),
        government_signatory="Kepala Bappeda",
        company_signatory="Direktur",
    )
    assert agreed.status == ProposalStatus.AGREED
    with pytest.raises(DomainError) as caught:
        services.delivery_record(
            actor=world.company_user, proposal=agreed, household=world.households[1], delivered_on=dt.date.today()
        )
    assert (caught.value.code, caught.value.message) == (
        "not_eligible_target",
        "Keluarga ini bukan sasaran terverifikasi layak dari usulan ini.",
    )
    with pytest.raises(DomainError) as other:
        services.delivery_record(
            actor=world.other_user, proposal=agreed, household=world.households[0], delivered_on=dt.date.today()
        )
    assert other.value.code == "forbidden"
    delivered = services.delivery_record(
        actor=world.company_user, proposal=agreed, household=world.households[0], delivered_on=dt.date.today()
    )
    assert (delivered.program_id, delivered.household_id, delivered.channel) == (
        agreed.program_id,
        world.households[0].pk,
        "csr",
    )


# -------------------------------------------------------------------------------------------- the property

ORGS = ("company", "other_company", "third")
STEP = st.one_of(
    st.tuples(
        st.just("allocate"),
        st.sampled_from(ORGS),
        st.sampled_from(("kind", "other_kind")),
        st.lists(st.integers(0, 3), min_size=1, max_size=4),
        st.sampled_from(("", "", "Disetujui rapat TKPK")),
    ),
    st.tuples(st.just("release"), st.integers(0, 50)),
)


@hsettings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=12))
def test_random_sequences_never_give_two_plain_holders(world: World, steps: list[tuple[Any, ...]]) -> None:
    """Whatever the order of allocations (with or without a reason) and releases: per household, need and
    cycle at most one active allocation without a reason, never one partner twice, and every allocation with a
    reason was made while another partner held the household."""
    with transaction.atomic():  # each example rolls back what it wrote
        third = f.OrganizationFactory(company=True)
        orgs = {"company": world.company, "other_company": world.other_company, "third": third}
        households = [*world.households, f.HouseholdFactory(desa=f.desa(BLUMAH), desil=1)]
        for step in steps:
            if step[0] == "allocate":
                _kind, org_name, kind_name, indexes, reason = step
                kind = getattr(world, kind_name)
                held_before = {
                    (h, o)
                    for h, o in Allocation.objects.active()
                    .filter(cycle=world.cycle, assistance_kind=kind)
                    .values_list("household_id", "organization_id")
                }
                wanted = {households[i].pk for i in indexes}
                result = allocate_to(
                    world, orgs[org_name], [households[i] for i in indexes], kind=kind, override_reason=reason
                )
                assert result.created + result.skipped == len(wanted)
                for allocation in Allocation.objects.filter(pk__in=result.allocation_ids):
                    others_held = any(
                        h == allocation.household_id and o != allocation.organization_id for h, o in held_before
                    )
                    assert bool(allocation.override_reason) == others_held
                    assert not (reason == "" and others_held)
            else:
                active = list(Allocation.objects.active().order_by("id"))
                if active:
                    chosen = active[step[1] % len(active)]
                    services.allocation_release(actor=world.secretariat, allocation=chosen, reason="Uji acak")
        rows = list(
            Allocation.objects.active().values_list(
                "household_id", "assistance_kind_id", "organization_id", "override_reason"
            )
        )
        plain = Counter((h, k) for h, k, _o, reason in rows if not reason)
        assert max(plain.values(), default=0) <= 1
        per_partner = Counter((h, k, o) for h, k, o, _r in rows)
        assert max(per_partner.values(), default=0) <= 1
        transaction.set_rollback(True)


# ------------------------------------------------------------------------------------------- overlap check


def other_proposal(world: World, household: Household, status: str, kind: Any = None) -> Proposal:
    """Another company's proposal naming ``household`` (rows written directly: a second partner reaches a
    household through an override or an additional target)."""
    proposal = f.ProposalFactory(
        organization=world.other_company,
        cycle=world.cycle,
        assistance_kind=kind or world.kind,
        status=status,
        title=f"Program lain {status}",
    )
    ProposalTarget.objects.create(proposal=proposal, household=household)
    return proposal


def test_overlaps_list_this_years_apbd_delivery_and_another_companys_live_proposal(world: World) -> None:
    h = [*world.households, f.HouseholdFactory(desa=f.desa(BLUMAH), desil=1)]
    proposal = draft_with_targets(world, households=h)
    year = world.cycle.year
    rtlh = f.reference(type(world.kind), "rtlh")

    apbd = f.ProgramFactory(name="Bantuan Pangan Daerah", assistance_kind=world.kind, funding_source="apbd")
    f.InterventionFactory(program=apbd, household=h[0], delivered_on=dt.date(year, 1, 15))
    # Not overlaps: another kind, last year, a cancelled delivery.
    f.InterventionFactory(
        program=f.ProgramFactory(assistance_kind=rtlh), household=h[1], delivered_on=dt.date(year, 1, 15)
    )
    last_year = f.ProgramFactory(assistance_kind=world.kind, year=year - 1)
    f.InterventionFactory(program=last_year, household=h[1], delivered_on=dt.date(year - 1, 6, 1))
    f.InterventionFactory(
        program=apbd,
        household=h[2],
        delivered_on=dt.date(year, 1, 15),
        status="cancelled",
        cancel_reason="Salah sasaran",
    )

    live = other_proposal(world, h[3], ProposalStatus.SUBMITTED)
    # Not overlaps: withdrawn, a mere draft, another kind.
    other_proposal(world, h[2], ProposalStatus.WITHDRAWN)
    other_proposal(world, h[1], ProposalStatus.DRAFT)
    other_proposal(world, h[1], ProposalStatus.SUBMITTED, kind=rtlh)

    found = selectors.proposal_overlaps(proposal=proposal)
    assert found == {
        h[0].pk: [
            selectors.OverlapItem(
                household_id=h[0].pk,
                source="program",
                label="Bantuan Pangan Daerah",
                organization=apbd.organization.name,
                funding="APBD",
                status="Tersalurkan",
            )
        ],
        h[3].pk: [
            selectors.OverlapItem(
                household_id=h[3].pk,
                source="proposal",
                label=live.title,
                organization=world.other_company.name,
                funding="CSR",
                status="Diajukan",
            )
        ],
    }


def test_overlaps_leave_out_the_proposals_own_program_and_its_earlier_cycles(world: World) -> None:
    proposal = proposal_in_agreed(world)
    assert proposal.program is not None
    f.InterventionFactory(program=proposal.program, household=world.households[0])
    older_cycle = f.CsrCycleFactory(year=world.cycle.year - 1)
    old = f.ProposalFactory(
        organization=world.other_company, cycle=older_cycle, assistance_kind=world.kind, status="agreed"
    )
    ProposalTarget.objects.create(proposal=old, household=world.households[0])
    assert selectors.proposal_overlaps(proposal=proposal) == {}


def proposal_in_agreed(world: World) -> Proposal:
    proposal = submitted(world, households=world.households[:1])
    services.target_verify(actor=world.secretariat, target=proposal.targets.get(), result=VerificationResult.ELIGIBLE)
    services.proposal_transition(actor=world.secretariat, proposal=proposal, action="verify")
    return services.proposal_transition(
        actor=world.secretariat,
        proposal=proposal,
        action="agree",
        number="PKS/OVL/1",
        signed_on=dt.date.today(),
        government_signatory="Kepala Bappeda",
        company_signatory="Direktur",
    )
