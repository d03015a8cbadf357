"""Reads of the CSR portal shared by pages, exports and the API: cycles, a partner's allocation as a BNBA list
(NIK masked), proposals, and the overlap check of a proposal's targets."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.utils import timezone

from csr import services
from csr.models import (
    Allocation,
    AllocationStatus,
    CsrCycle,
    CycleStatus,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    Refusal,
)
from households.choices import Relationship
from households.models import Person
from programs.models import Intervention, InterventionStatus
from reports.models import GapHouseholdFact, NeedRule
from tkpk.identifiers import mask_identifier
from tkpk.models import Organization
from tkpk.scoping import Role, scope_for


def cycles_for(*, user: Any) -> QuerySet[CsrCycle]:
    return CsrCycle.objects.for_user(user).select_related("region").order_by("-year", "-proposal_deadline")


def partner_organizations(*, user: Any) -> list[Organization]:
    """The partner organizations the user acts for (one for most users)."""
    ids = [g.organization_id for g in scope_for(user).grants_for(Role.PARTNER)]
    return list(Organization.objects.filter(pk__in=ids, is_active=True).order_by("name"))


def current_cycle(*, user: Any) -> CsrCycle | None:
    """The cycle a partner works in now: the newest open one, else the newest."""
    cycles = cycles_for(user=user)
    return cycles.filter(status=CycleStatus.OPEN).first() or cycles.first()


@dataclass(frozen=True)
class DeadlineInfo:
    deadline: dt.datetime
    days_left: int
    is_open: bool
    reopened: bool


def deadline_info(*, cycle: CsrCycle, organization_id: int, now: dt.datetime | None = None) -> DeadlineInfo:
    now = now or timezone.now()
    deadline = services.submission_deadline(cycle=cycle, organization_id=organization_id)
    days_left = (timezone.localtime(deadline).date() - timezone.localtime(now).date()).days
    return DeadlineInfo(
        deadline=deadline,
        days_left=days_left,
        is_open=services.submission_open(cycle=cycle, organization_id=organization_id, now=now),
        reopened=deadline != cycle.proposal_deadline,
    )


def allocations(
    *, user: Any, cycle: CsrCycle, organization_id: int | None = None, include_released: bool = False
) -> QuerySet[Allocation]:
    """The allocations the user may see in a cycle (a partner: its own), with the household, its desa and the
    head's NIK as ``head_nik`` (show it only through ``mask_identifier`` to partners)."""
    head_nik = Person.objects.filter(household=OuterRef("household_id"), relationship=Relationship.HEAD)
    rows = Allocation.objects.for_user(user).filter(cycle=cycle)
    if organization_id is not None:
        rows = rows.filter(organization_id=organization_id)
    if not include_released:
        rows = rows.filter(status=AllocationStatus.ACTIVE)
    return (
        rows.annotate(head_nik=Subquery(head_nik.order_by("id").values("nik")[:1]))
        .select_related("household", "household__desa", "assistance_kind", "organization")
        .order_by("household__desa__name", "household__head_name", "household_id", "pk")
    )


def needs_by_household(*, year: int, household_ids: list[int]) -> dict[int, list[str]]:
    """Unmet needs (need rule names) per household from the gap engine's facts of ``year``."""
    labels = dict(NeedRule.objects.values_list("code", "name"))
    result: dict[int, list[str]] = {}
    facts = GapHouseholdFact.objects.filter(year=year, household_id__in=household_ids).values_list(
        "household_id", "unmet_needs"
    )
    for household_id, unmet in facts:
        result[household_id] = [labels.get(code, code) for code in unmet.strip(",").split(",") if code]
    return result


def bnba_rows(
    *, user: Any, cycle: CsrCycle, organization_id: int | None = None, offset: int = 0, limit: int | None = None
) -> list[dict[str, Any]]:
    """The allocation as display rows: name, masked NIK, address, desa, desil, need, unmet needs
    (``offset``/``limit``: one page or chunk of the list, in its order)."""
    rows = list(
        allocations(user=user, cycle=cycle, organization_id=organization_id)[
            offset : None if limit is None else offset + limit
        ]
    )
    needs = needs_by_household(year=cycle.year, household_ids=[a.household_id for a in rows])
    return [
        {
            "allocation": a,
            "household": a.household,
            "name": a.household.head_name,
            "nik": mask_identifier(getattr(a, "head_nik", None)),
            "address": a.household.address,
            "rt": a.household.rt,
            "rw": a.household.rw,
            "desa": a.household.desa.name,
            "desil": a.household.desil,
            "need": a.assistance_kind.name if a.assistance_kind else "",
            "unmet_needs": needs.get(a.household_id, []),
        }
        for a in rows
    ]


def proposals_for(*, user: Any, cycle: CsrCycle | None = None) -> QuerySet[Proposal]:
    rows = Proposal.objects.for_user(user)
    if cycle is not None:
        rows = rows.filter(cycle=cycle)
    return rows.select_related("organization", "cycle", "assistance_kind", "cluster", "strategy").annotate(
        target_count=Count("targets", distinct=True)
    )


def review_queue(*, user: Any, cycle: CsrCycle) -> list[Proposal]:
    """Proposals waiting for the secretariat: submitted (to verify) and verified (to agree) first."""
    order: dict[str, int] = {ProposalStatus.SUBMITTED.value: 0, ProposalStatus.VERIFIED.value: 1}
    rows = proposals_for(user=user, cycle=cycle).exclude(status=ProposalStatus.DRAFT)
    return sorted(rows, key=lambda p: (order.get(str(p.status), 2), p.submitted_at or p.created_at))


def refusals_for(*, user: Any, cycle: CsrCycle | None = None) -> QuerySet[Refusal]:
    rows = Refusal.objects.for_user(user).select_related("organization", "cycle")
    return rows.filter(cycle=cycle) if cycle is not None else rows


@dataclass(frozen=True)
class OverlapItem:
    household_id: int
    source: str  # "program" (APBD/APBN/other partner's delivery) or "proposal" (another partner's proposal)
    label: str  # program or proposal title
    organization: str
    funding: str
    status: str


def proposal_overlaps(*, proposal: Proposal) -> dict[int, list[OverlapItem]]:
    """Per target household: programs of the same assistance kind delivering (or planned) to it in the cycle's
    year from anyone else, and other partners' live proposals of the same kind naming it."""
    household_ids = list(proposal.targets.exclude(household__isnull=True).values_list("household_id", flat=True))
    found: dict[int, list[OverlapItem]] = defaultdict(list)
    deliveries = (
        Intervention.objects.filter(
            household_id__in=household_ids,
            period_year=proposal.cycle.year,
            program__assistance_kind_id=proposal.assistance_kind_id,
        )
        .exclude(status=InterventionStatus.CANCELLED)
        .exclude(program_id=proposal.program_id or 0)
        .select_related("program", "organization")
        .order_by("household_id", "delivered_on")
    )
    for item in deliveries:
        found[item.household_id].append(
            OverlapItem(
                household_id=item.household_id,
                source="program",
                label=item.program.name,
                organization=item.organization.name if item.organization_id else "",
                funding=item.program.get_funding_source_display(),
                status=item.get_status_display(),
            )
        )
    others = (
        ProposalTarget.objects.filter(
            household_id__in=household_ids,
            proposal__cycle__year=proposal.cycle.year,
            proposal__assistance_kind_id=proposal.assistance_kind_id,
        )
        .exclude(proposal_id=proposal.pk)
        .exclude(proposal__status__in=(ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN))
        .select_related("proposal", "proposal__organization")
    )
    for target in others:
        assert target.household_id is not None
        found[target.household_id].append(
            OverlapItem(
                household_id=target.household_id,
                source="proposal",
                label=target.proposal.title,
                organization=target.proposal.organization.name,
                funding="CSR",
                status=target.proposal.get_status_display(),
            )
        )
    return dict(found)
