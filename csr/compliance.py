"""Compliance of a CSR cycle (reads): which partners of the cycle's region must take part (companies of a
required sector), what each did (a proposal submitted or further, a written refusal, or nothing), who is late
(deadline passed with neither, honouring a reopening for that partner), and which agreed programs are overdue
for realisation (with delivered households vs eligible targets).

Every figure comes from a fixed number of set-based queries per cycle, never one query per partner.
``cycle_compliance`` reads what the user may count (``for_aggregates``: the secretariat its region, leadership
the counts); ``cycle_compliance_system`` is the unscoped reading of the reminder task.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from csr.models import (
    CsrCycle,
    CycleReopen,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    Refusal,
    Reminder,
    VerificationResult,
)
from csr.services import PARTNER_KINDS
from programs.models import Intervention, InterventionStatus
from tkpk.models import CompanySector, Organization, OrganizationKind

STATE_PROPOSAL = "usulan"
STATE_REFUSAL = "menolak"
STATE_NONE = "belum ada"
STATE_LABELS = {
    STATE_PROPOSAL: _("Mengajukan usulan"),
    STATE_REFUSAL: _("Menyatakan tidak berpartisipasi"),
    STATE_NONE: _("Belum ada usulan maupun surat"),
}

# A proposal counts once it was submitted; the furthest status reached is shown (draft and withdrawn do not count).
STATUS_RANK: dict[str, int] = {
    ProposalStatus.RETURNED.value: 1,
    ProposalStatus.SUBMITTED.value: 2,
    ProposalStatus.VERIFIED.value: 3,
    ProposalStatus.AGREED.value: 4,
    ProposalStatus.IMPLEMENTED.value: 5,
    ProposalStatus.REPORTED.value: 6,
}
COUNTED_STATUSES = tuple(STATUS_RANK)


@dataclass
class ComplianceRow:
    """One partner of the cycle's region and what it did."""

    organization_id: int
    name: str
    kind: str
    sector: str
    required: bool
    state: str
    deadline: dt.datetime
    reopened: bool
    flagged: bool
    days_left: int
    furthest_status: str | None = None
    proposals: int = 0
    drafts: int = 0
    withdrawn: int = 0
    refusal: Refusal | None = None
    reminders: list[Reminder] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def furthest_status_label(self) -> str:
        return str(ProposalStatus(self.furthest_status).label) if self.furthest_status else ""

    @property
    def sector_label(self) -> str:
        if self.kind == OrganizationKind.COMPANY and self.sector in CompanySector.values:
            return str(CompanySector(self.sector).label)
        return str(OrganizationKind(self.kind).label) if self.kind in OrganizationKind.values else self.kind


@dataclass
class OverdueRow:
    """An agreed program whose realisation date has passed while it is still only agreed."""

    proposal: Proposal
    due: dt.date
    days_overdue: int
    eligible_targets: int
    delivered_households: int
    reminders: list[Reminder] = field(default_factory=list)

    @property
    def delivered_share(self) -> int | None:
        if not self.eligible_targets:
            return None
        return round(100 * self.delivered_households / self.eligible_targets)


@dataclass
class ComplianceReport:
    cycle: CsrCycle
    now: dt.datetime
    rows: list[ComplianceRow]
    overdue: list[OverdueRow]

    @property
    def required_rows(self) -> list[ComplianceRow]:
        return [r for r in self.rows if r.required]

    def counts(self) -> dict[str, int]:
        required = self.required_rows
        return {
            "required": len(required),
            "proposal": sum(r.state == STATE_PROPOSAL for r in required),
            "refusal": sum(r.state == STATE_REFUSAL for r in required),
            "none": sum(r.state == STATE_NONE for r in required),
            "flagged": sum(r.flagged for r in required),
            "others": len(self.rows) - len(required),
            "overdue": len(self.overdue),
        }


def partner_region_q(cycle: CsrCycle) -> Q:
    """Active partners registered in the cycle's region, below it, or in the province above it (the same rule
    as ``services._check_partner_organization``)."""
    code = str(cycle.region_id)
    ancestors = [code[:n] for n in (2, 4) if n < len(code)]
    return Q(kind__in=PARTNER_KINDS, is_active=True) & (
        Q(region__code__startswith=code) | Q(region__code__in=ancestors)
    )


def deadlines(*, cycle: CsrCycle, organization_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """Each reopened partner's deadline in one query: the later of the cycle's and its reopening
    (as ``services.submission_deadline``); partners missing here have the cycle's."""
    reopened = dict(
        CycleReopen.objects.filter(cycle=cycle, organization_id__in=list(organization_ids)).values_list(
            "organization_id", "until"
        )
    )
    return {pk: until if until > cycle.proposal_deadline else cycle.proposal_deadline for pk, until in reopened.items()}


def _days_left(deadline: dt.datetime, now: dt.datetime) -> int:
    return (timezone.localtime(deadline).date() - timezone.localtime(now).date()).days


def _compliance(
    *,
    cycle: CsrCycle,
    organizations: QuerySet[Organization],
    proposals: QuerySet[Proposal],
    refusals: QuerySet[Refusal],
    reminders: QuerySet[Reminder] | None,
    now: dt.datetime,
    include_others: bool,
) -> ComplianceReport:
    required_sectors = [str(s) for s in cycle.required_sectors or []]
    required_q = Q(kind=OrganizationKind.COMPANY, sector__in=required_sectors)
    cycle_proposals = proposals.filter(cycle=cycle).order_by()
    cycle_refusals = refusals.filter(cycle=cycle)
    partners = organizations.filter(partner_region_q(cycle))
    if include_others:
        involved = Q(allocations__cycle=cycle) | Q(csr_proposals__cycle=cycle) | Q(csr_refusals__cycle=cycle)
        partners = partners.filter(required_q | Q(pk__in=Organization.objects.filter(involved).values("pk")))
    else:
        partners = partners.filter(required_q)
    orgs = list(partners.order_by("name", "pk").values("pk", "name", "kind", "sector"))
    ids = [o["pk"] for o in orgs]

    statuses: dict[int, dict[str, int]] = defaultdict(dict)
    for org_id, status, n in (
        cycle_proposals.filter(organization_id__in=ids)
        .values("organization_id", "status")
        .annotate(n=Count("pk"))
        .values_list("organization_id", "status", "n")
    ):
        statuses[org_id][status] = n
    refusal_by_org = {
        r.organization_id: r for r in cycle_refusals.filter(organization_id__in=ids).select_related("acknowledged_by")
    }
    reminder_by_org: dict[int, list[Reminder]] = defaultdict(list)
    reminder_by_proposal: dict[int, list[Reminder]] = defaultdict(list)
    if reminders is not None:
        for reminder in reminders.filter(cycle=cycle).order_by("sent_at", "pk"):
            if reminder.proposal_id is not None:
                reminder_by_proposal[reminder.proposal_id].append(reminder)
            else:
                reminder_by_org[reminder.organization_id].append(reminder)
    deadline_by_org = deadlines(cycle=cycle, organization_ids=ids)

    rows = []
    for org in orgs:
        pk = org["pk"]
        counted = {s: n for s, n in statuses[pk].items() if s in STATUS_RANK}
        furthest = max(counted, key=lambda s: STATUS_RANK[s]) if counted else None
        refusal = refusal_by_org.get(pk)
        state = STATE_PROPOSAL if furthest else STATE_REFUSAL if refusal else STATE_NONE
        deadline = deadline_by_org.get(pk, cycle.proposal_deadline)
        required = org["kind"] == OrganizationKind.COMPANY and org["sector"] in required_sectors
        rows.append(
            ComplianceRow(
                organization_id=pk,
                name=org["name"],
                kind=org["kind"],
                sector=org["sector"],
                required=required,
                state=state,
                deadline=deadline,
                reopened=deadline != cycle.proposal_deadline,
                flagged=required and state == STATE_NONE and now > deadline,
                days_left=_days_left(deadline, now),
                furthest_status=furthest,
                proposals=sum(counted.values()),
                drafts=statuses[pk].get(ProposalStatus.DRAFT, 0),
                withdrawn=statuses[pk].get(ProposalStatus.WITHDRAWN, 0),
                refusal=refusal,
                reminders=reminder_by_org.get(pk, []),
            )
        )
    rows.sort(key=lambda r: (not r.required, not r.flagged, r.state != STATE_NONE, r.name.lower()))
    overdue = _overdue(cycle=cycle, proposals=cycle_proposals, now=now)
    for row in overdue:
        row.reminders = reminder_by_proposal.get(row.proposal.pk, [])
    return ComplianceReport(cycle=cycle, now=now, rows=rows, overdue=overdue)


def _overdue(*, cycle: CsrCycle, proposals: QuerySet[Proposal], now: dt.datetime) -> list[OverdueRow]:
    today = timezone.localtime(now).date()
    eligible = (
        ProposalTarget.objects.filter(proposal=OuterRef("pk"), verification=VerificationResult.ELIGIBLE)
        .order_by()
        .values("proposal")
        .annotate(n=Count("pk"))
        .values("n")
    )
    delivered = (
        Intervention.objects.filter(program_id=OuterRef("program_id"), status=InterventionStatus.DELIVERED)
        .order_by()
        .values("program")
        .annotate(n=Count("household_id", distinct=True))
        .values("n")
    )
    late = Q(ends_on__lt=today) if cycle.realisation_deadline >= today else Q()
    rows = (
        proposals.filter(status=ProposalStatus.AGREED)
        .filter(late)
        .select_related("organization", "agreement", "assistance_kind", "cycle__region")
        .annotate(
            eligible_targets=Coalesce(Subquery(eligible, output_field=IntegerField()), Value(0)),
            delivered_households=Coalesce(Subquery(delivered, output_field=IntegerField()), Value(0)),
        )
        .order_by("ends_on", "organization__name", "pk")
    )
    result = []
    for proposal in rows:
        due = min(cycle.realisation_deadline, proposal.ends_on)
        result.append(
            OverdueRow(
                proposal=proposal,
                due=due,
                days_overdue=(today - due).days,
                eligible_targets=proposal.eligible_targets,
                delivered_households=proposal.delivered_households,
            )
        )
    return result


def cycle_compliance(
    *, user: Any, cycle: CsrCycle, now: dt.datetime | None = None, include_others: bool = False
) -> ComplianceReport:
    """The cycle's compliance as the user may count it (call with a cycle from ``CsrCycle.objects.for_user``)."""
    return _compliance(
        cycle=cycle,
        organizations=Organization.objects.for_aggregates(user),
        proposals=Proposal.objects.for_aggregates(user),
        refusals=Refusal.objects.for_aggregates(user),
        reminders=Reminder.objects.for_user(user),
        now=now or timezone.now(),
        include_others=include_others,
    )


def cycle_compliance_system(*, cycle: CsrCycle, now: dt.datetime | None = None) -> ComplianceReport:
    """Unscoped reading for the reminder task (no user: it acts for every region's secretariat)."""
    return _compliance(
        cycle=cycle,
        organizations=Organization.objects.all(),
        proposals=Proposal.objects.all(),
        refusals=Refusal.objects.all(),
        reminders=None,
        now=now or timezone.now(),
        include_others=False,
    )
