"""Reads of the secretariat's CSR pages: cycles with their counts, the partners of a cycle with their status,
and the rows of a proposal under review (targets with masked NIK and their overlaps)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from csr import selectors, services
from csr.models import (
    Allocation,
    AllocationStatus,
    CsrCycle,
    CycleReopen,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    Refusal,
)
from households.choices import Relationship
from households.models import Person
from tkpk.identifiers import mask_identifier
from tkpk.models import Organization, Region


def managed_cycle(*, user: Any, pk: int) -> CsrCycle:
    """A cycle the user runs the secretariat of (404 otherwise, also for a cycle it only sees as a partner)."""
    cycle = selectors.cycles_for(user=user).filter(pk=pk).first()
    if cycle is None or not services.may_manage_cycle(actor=user, cycle=cycle):
        raise Http404
    return cycle


def managed_proposal(*, user: Any, pk: int) -> Proposal:
    proposal = (
        selectors.proposals_for(user=user)
        .select_related("cycle__region", "organization", "agreement", "program")
        .filter(pk=pk)
        .first()
    )
    if proposal is None or not services.may_manage_cycle(actor=user, cycle=proposal.cycle):
        raise Http404
    return proposal


def cycle_regions(*, user: Any) -> QuerySet[Region]:
    """Regions (province, kabupaten/kota) a new cycle may belong to."""
    return Region.objects.assignable_for(user).filter(level__lte=2).order_by("code")


@dataclass
class CycleCounts:
    households: int = 0  # distinct households with an active allocation
    by_status: dict[str, int] = field(default_factory=dict)
    refusals: int = 0

    @property
    def proposals(self) -> int:
        return sum(self.by_status.values())

    @property
    def labelled(self) -> list[tuple[str, int]]:
        """(status label, count) in workflow order, statuses with proposals only."""
        return [
            (str(label), self.by_status[value]) for value, label in ProposalStatus.choices if value in self.by_status
        ]


def cycle_counts(*, user: Any, cycles: list[CsrCycle]) -> dict[int, CycleCounts]:
    """Per cycle: allocated households, proposals per status (drafts included), refusals. Three queries."""
    ids = [c.pk for c in cycles]
    counts: dict[int, CycleCounts] = {pk: CycleCounts() for pk in ids}
    allocated = (
        Allocation.objects.for_user(user)
        .filter(status=AllocationStatus.ACTIVE)
        .filter(cycle_id__in=ids)
        .values("cycle_id")
        .annotate(n=Count("household_id", distinct=True))
        .order_by()
    )
    for row in allocated:
        counts[row["cycle_id"]].households = row["n"]
    proposals = (
        Proposal.objects.for_user(user).filter(cycle_id__in=ids).values("cycle_id", "status").annotate(n=Count("id"))
    ).order_by()
    for row in proposals:
        counts[row["cycle_id"]].by_status[row["status"]] = row["n"]
    refusals = Refusal.objects.for_user(user).filter(cycle_id__in=ids).values("cycle_id").annotate(n=Count("id"))
    for row in refusals.order_by():
        counts[row["cycle_id"]].refusals = row["n"]
    return counts


def status_labels() -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in ProposalStatus.choices]


@dataclass
class PartnerRow:
    organization: Organization
    required: bool
    households: int = 0
    proposals: list[Proposal] = field(default_factory=list)
    refusal: Refusal | None = None
    reopen: CycleReopen | None = None

    @property
    def has_live_proposal(self) -> bool:
        return any(p.status not in (ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN) for p in self.proposals)


def _partner_organizations(*, user: Any, cycle: CsrCycle) -> list[Organization]:
    """Active partners registered in the cycle's region (or its province), required sectors first."""
    ancestors = [cycle.region_id[:n] for n in (2,) if n < len(cycle.region_id)]
    organizations = (
        Organization.objects.for_user(user)
        .filter(kind__in=services.PARTNER_KINDS, is_active=True)
        .filter(Q(region__code__startswith=cycle.region_id) | Q(region__code__in=ancestors))
    )
    required = set(cycle.required_sectors or [])
    return sorted(organizations, key=lambda o: (not (o.sector and o.sector in required), o.kind, o.name))


def cycle_allocations(*, user: Any, cycle: CsrCycle) -> Any:
    """The cycle's allocations the user may see. Every allocation of a cycle lies in the cycle's region
    (``allocations_create`` refuses others), so the secretariat of that region needs no per-household scope
    join (which at 50k allocations costs more than the page)."""
    if services.may_manage_cycle(actor=user, cycle=cycle):
        return Allocation.objects.filter(cycle=cycle)
    return Allocation.objects.for_user(user).filter(cycle=cycle)


def cycle_partners(*, user: Any, cycle: CsrCycle) -> list[PartnerRow]:
    """Companies and other partners registered in the cycle's region (or its province), with their active
    allocated households, proposals, refusal and reopening in this cycle; required sectors first."""
    required = set(cycle.required_sectors or [])
    rows = {
        o.pk: PartnerRow(organization=o, required=bool(o.sector) and o.sector in required)
        for o in _partner_organizations(user=user, cycle=cycle)
    }
    allocated = (
        cycle_allocations(user=user, cycle=cycle)
        .filter(status=AllocationStatus.ACTIVE, organization_id__in=rows)
        .values("organization_id")
        .annotate(n=Count("household_id", distinct=True))
        .order_by()
    )
    for row in allocated:
        rows[row["organization_id"]].households = row["n"]
    for proposal in Proposal.objects.for_user(user).filter(cycle=cycle, organization_id__in=rows).order_by("pk"):
        rows[proposal.organization_id].proposals.append(proposal)
    for refusal in Refusal.objects.for_user(user).filter(cycle=cycle, organization_id__in=rows):
        rows[refusal.organization_id].refusal = refusal
    for reopen in CycleReopen.objects.for_user(user).filter(cycle=cycle, organization_id__in=rows):
        rows[reopen.organization_id].reopen = reopen
    return list(rows.values())


def cycle_partner_choices(*, user: Any, cycle: CsrCycle) -> list[Organization]:
    return _partner_organizations(user=user, cycle=cycle)


@dataclass
class TargetRow:
    target: ProposalTarget
    nik: str  # masked
    head_person_id: int | None
    overlaps: list[selectors.OverlapItem]


def review_targets(*, proposal: Proposal) -> list[TargetRow]:
    """The proposal's targets with the head's masked NIK (and person id, for an authorised reveal) and the
    overlap check per household."""
    head = Person.objects.filter(household=OuterRef("household_id"), relationship=Relationship.HEAD).order_by("id")
    targets = (
        proposal.targets.annotate(
            head_nik=Subquery(head.values("nik")[:1]), head_person_id=Subquery(head.values("id")[:1])
        )
        .select_related("household", "household__desa", "allocation", "proposed_desa", "verified_by")
        .order_by("is_additional", "household__desa__name", "household__head_name", "id")
    )
    overlaps: dict[int, list[selectors.OverlapItem]] = defaultdict(list, selectors.proposal_overlaps(proposal=proposal))
    return [
        TargetRow(
            target=t,
            nik=mask_identifier(getattr(t, "head_nik", None)),
            head_person_id=getattr(t, "head_person_id", None),
            overlaps=overlaps[t.household_id] if t.household_id else [],
        )
        for t in targets
    ]
