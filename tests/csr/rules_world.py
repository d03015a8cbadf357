"""A small CSR world for the rule tests: a Kendal cycle, two companies, the roles around them, households and
helpers that put a proposal in any workflow state.

``shared_world`` builds it once per module inside an outer transaction (like ``tests/permissions``); each
test still runs in its own savepoint and the outer transaction is rolled back at the end of the module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from csr import services
from csr.models import Agreement, CsrCycle, Proposal, ProposalStatus, VerificationResult
from households.models import Household
from programs.models import AssistanceKind, Program
from tests import factories as f
from tkpk.models import Organization
from tkpk.scoping import Role

BLUMAH = "3324012001"  # Blumah, Plantungan
KUKAR = "6402"

# The actors of the workflow matrix and the role in TRANSITIONS each one holds for the proposal (None: none).
ACTORS: dict[str, str | None] = {
    "own_partner": services.PARTNER,
    "other_partner": None,
    "secretariat": services.SECRETARIAT,
    "other_secretariat": None,
    "opd_officer": None,
    "leadership": None,
}


@dataclass
class World:
    cycle: CsrCycle
    kind: AssistanceKind
    other_kind: AssistanceKind
    company: Organization
    company_user: Any
    other_company: Organization
    other_user: Any
    secretariat: Any
    other_secretariat: Any
    opd_officer: Any
    leadership: Any
    households: list[Household]

    def actor(self, name: str) -> Any:
        return {
            "own_partner": self.company_user,
            "other_partner": self.other_user,
            "secretariat": self.secretariat,
            "other_secretariat": self.other_secretariat,
            "opd_officer": self.opd_officer,
            "leadership": self.leadership,
        }[name]


def build_world() -> World:
    f.load_region(KUKAR)
    company_user = f.user_with_role(Role.PARTNER)
    other_user = f.user_with_role(Role.PARTNER)
    world = World(
        cycle=f.CsrCycleFactory(),
        kind=f.reference(AssistanceKind, "pangan"),
        other_kind=f.reference(AssistanceKind, "rtlh"),
        company=company_user.test_organization,
        company_user=company_user,
        other_company=other_user.test_organization,
        other_user=other_user,
        secretariat=f.user_with_role(Role.SECRETARIAT),
        other_secretariat=f.user_with_role(Role.SECRETARIAT, region_code=KUKAR),
        opd_officer=f.user_with_role(Role.OPD_OFFICER),
        leadership=f.user_with_role(Role.LEADERSHIP),
        households=f.HouseholdFactory.create_batch(3, desa=f.desa(BLUMAH), desil=1),
    )
    return world


@contextmanager
def outer_transaction(django_db_blocker: Any) -> Iterator[None]:
    """Keep what is built inside for the module's tests; roll it back afterwards."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def allocate(world: World, organization: Organization | None = None, households: list[Household] | None = None) -> Any:
    return services.allocations_create(
        actor=world.secretariat,
        cycle=world.cycle,
        organization=organization or world.company,
        assistance_kind=world.kind,
        household_ids=[h.pk for h in (households if households is not None else world.households)],
    )


def draft_with_targets(world: World, households: list[Household] | None = None, **attrs: Any) -> Proposal:
    """A draft of the company naming ``households`` (allocated to it first)."""
    households = world.households if households is None else households
    allocate(world, households=households)
    proposal = f.ProposalFactory(organization=world.company, cycle=world.cycle, assistance_kind=world.kind, **attrs)
    return services.proposal_update(
        actor=world.company_user, proposal=proposal, household_ids=[h.pk for h in households]
    )


AGREED_OR_LATER = (ProposalStatus.AGREED, ProposalStatus.IMPLEMENTED, ProposalStatus.REPORTED)


def proposal_in(world: World, status: str) -> Proposal:
    """A proposal of the company put directly in ``status`` with what that state implies: targets verified
    eligible, and from ``agreed`` on an agreement and its CSR program with one delivery."""
    proposal = draft_with_targets(world)
    proposal.targets.update(verification=VerificationResult.ELIGIBLE, verified_at=timezone.now())
    if status in AGREED_OR_LATER:
        program = f.ProgramFactory(
            organization=world.company,
            code=f"csr-uji-{proposal.pk}",
            funding_source="csr",
            assistance_kind=world.kind,
        )
        Agreement.objects.create(
            proposal=proposal,
            number=f"PKS/UJI/{proposal.pk}",
            signed_on=dt.date.today(),
            government_signatory="Kepala Bappeda",
            company_signatory="Direktur",
        )
        f.InterventionFactory(program=program, household=world.households[0])
        Proposal.objects.filter(pk=proposal.pk).update(program=program)
    Proposal.objects.filter(pk=proposal.pk).update(
        status=status, submitted_at=None if status == ProposalStatus.DRAFT else timezone.now()
    )
    return Proposal.objects.get(pk=proposal.pk)


def program_of(proposal: Proposal) -> Program:
    assert proposal.program is not None
    return proposal.program
