"""Delivered CSR aid counts in the coverage-gap engine: a desil-1 household uncovered before is covered after
the recompute its delivery queues, and the kabupaten's "Desil 1 uncovered" drops by one.

Two ways: in-process (the delivery queues a GapRun for the household's kabupaten; the test executes that very
run), and on the real Celery worker (PostgreSQL + Redis pass only), where nothing but the commit of the
delivery starts the recompute.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from csr import services
from csr.models import Proposal, ProposalStatus, VerificationResult
from households.models import Household
from programs.models import AssistanceKind, EntryChannel, Intervention
from reports.models import GapHouseholdFact, GapRun, GapRunStatus, GapSummary, GapTrigger
from reports.services import gap_recompute_now, gap_run_execute
from tests import factories as f
from tkpk.exceptions import DomainError
from tkpk.scoping import Role

BLUMAH = "3324012001"
KENDAL = "3324"
TIMEOUT = 90


def agreed_proposal(secretariat: Any, company_user: Any, households: list[Household]) -> Proposal:
    """Allocation → proposal → submit → joint verification (eligible) → verify → agree, all through services."""
    company = company_user.test_organization
    cycle = f.CsrCycleFactory()
    kind = f.reference(AssistanceKind, "pangan")
    result = services.allocations_create(
        actor=secretariat,
        cycle=cycle,
        organization=company,
        assistance_kind=kind,
        household_ids=[h.pk for h in households],
    )
    assert result.created == len(households)
    proposal = f.ProposalFactory(organization=company, cycle=cycle, assistance_kind=kind)
    services.proposal_update(actor=company_user, proposal=proposal, household_ids=[h.pk for h in households])
    services.proposal_transition(actor=company_user, proposal=proposal, action="submit")
    for target in proposal.targets.all():
        services.target_verify(actor=secretariat, target=target, result=VerificationResult.ELIGIBLE)
    services.proposal_transition(actor=secretariat, proposal=proposal, action="verify")
    proposal = services.proposal_transition(
        actor=secretariat,
        proposal=proposal,
        action="agree",
        number=f"PKS/GAP/{proposal.pk}",
        signed_on=timezone.localdate(),
        government_signatory="Kepala Bappeda",
        company_signatory="Direktur",
    )
    assert proposal.status == ProposalStatus.AGREED and proposal.program is not None
    return proposal


def fact(household: Household, year: int) -> GapHouseholdFact:
    return GapHouseholdFact.objects.get(household=household, year=year)


def kendal(year: int) -> GapSummary:
    return GapSummary.objects.get(year=year, region_code=KENDAL)


@pytest.mark.django_db
def test_a_csr_delivery_covers_the_household_after_the_recompute_it_queues(
    settings: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    year = timezone.localdate().year
    secretariat = f.user_with_role(Role.SECRETARIAT)
    company_user = f.user_with_role(Role.PARTNER)
    target, neighbour = f.HouseholdFactory.create_batch(2, desa=f.desa(BLUMAH), desil=1)
    gap_recompute_now(year=year, region_code=KENDAL)
    assert (fact(target, year).covered, fact(neighbour, year).covered) == (False, False)
    before = kendal(year)
    assert (before.desil1, before.desil1_uncovered, before.covered) == (2, 2, 0)

    proposal = agreed_proposal(secretariat, company_user, [target])
    assert not GapRun.objects.filter(status=GapRunStatus.QUEUED).exists()
    with django_capture_on_commit_callbacks() as callbacks:
        delivery = services.delivery_record(
            actor=company_user, proposal=proposal, household=target, delivered_on=timezone.localdate()
        )
    assert (delivery.channel, delivery.program_id, delivery.status) == (
        EntryChannel.CSR,
        proposal.program_id,
        "delivered",
    )
    # The delivery asked for one recompute of the household's kabupaten and year, sent after the commit.
    queued = GapRun.objects.get(status=GapRunStatus.QUEUED)
    assert (queued.year, queued.region_code, queued.trigger) == (year, KENDAL, GapTrigger.IMPORT)
    assert len(callbacks) >= 1
    # Until it runs the figures are the old ones.
    assert fact(target, year).covered is False

    run = gap_run_execute(run_id=queued.pk)
    assert run is not None and run.status == GapRunStatus.DONE
    assert (fact(target, year).covered, fact(neighbour, year).covered) == (True, False)
    assert "pangan" in fact(target, year).kinds
    after = kendal(year)
    assert (after.desil1, after.desil1_uncovered, after.covered) == (2, before.desil1_uncovered - 1, 1)
    assert after.covered_by_kind.get("pangan") == 1


@pytest.mark.django_db
def test_a_delivery_refused_queues_no_recompute(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    secretariat = f.user_with_role(Role.SECRETARIAT)
    company_user = f.user_with_role(Role.PARTNER)
    target, outsider = f.HouseholdFactory.create_batch(2, desa=f.desa(BLUMAH), desil=1)
    proposal = agreed_proposal(secretariat, company_user, [target])
    with pytest.raises(DomainError) as refused:
        services.delivery_record(
            actor=company_user, proposal=proposal, household=outsider, delivered_on=timezone.localdate()
        )
    assert refused.value.code == "not_eligible_target"
    assert not GapRun.objects.exists()
    assert not Intervention.objects.filter(household=outsider).exists()


# ------------------------------------------------------------------------------------------- real worker


def wait_for(predicate: Callable[[], Any], *, what: str, worker: Any) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; worker log:\n{worker.log_tail()}")
        time.sleep(0.2)


def done_run(year: int, after_id: int) -> GapRun | None:
    run = GapRun.objects.filter(year=year, region_code=KENDAL, pk__gt=after_id).order_by("-pk").first()
    return run if run is not None and run.status in (GapRunStatus.DONE, GapRunStatus.FAILED) else None


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_on_the_worker_a_committed_csr_delivery_removes_the_household_from_desil1_uncovered(
    settings: Any, tmp_path: Path, celery_worker_process: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    year = timezone.localdate().year
    secretariat = f.user_with_role(Role.SECRETARIAT)
    company_user = f.user_with_role(Role.PARTNER)
    target, neighbour = f.HouseholdFactory.create_batch(2, desa=f.desa(BLUMAH), desil=1)
    baseline = gap_recompute_now(year=year, region_code=KENDAL)
    assert baseline.status == GapRunStatus.DONE
    before = kendal(year)
    assert (before.desil1_uncovered, fact(target, year).covered) == (2, False)

    proposal = agreed_proposal(secretariat, company_user, [target])
    services.delivery_record(
        actor=company_user, proposal=proposal, household=target, delivered_on=timezone.localdate()
    )  # commits: the recompute is sent to the worker by the commit alone

    run = wait_for(
        lambda: done_run(year, baseline.pk), what="the recompute queued by the delivery", worker=celery_worker_process
    )
    assert run.status == GapRunStatus.DONE, run.message
    assert (run.trigger, run.region_code) == (GapTrigger.IMPORT, KENDAL)
    assert (fact(target, year).covered, fact(neighbour, year).covered) == (True, False)
    after = kendal(year)
    assert after.run_id == run.pk
    assert after.desil1_uncovered == before.desil1_uncovered - 1 == 1
