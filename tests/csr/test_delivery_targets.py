"""A CSR agreement's program delivers only to the proposal's targets found eligible: the same rule (code
not_listed_target, one message) on the portal form, the program's intervention spreadsheet and the form service."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from csr import services
from csr.models import VerificationResult
from programs import rules
from programs.models import AssistanceKind, Intervention
from programs.services import intervention_create
from tests import factories as f
from tests.programs.test_import_interventions import errors, household, upload_and_run, xlsx
from tkpk.exceptions import DomainError
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def agreed() -> dict[str, Any]:
    """An agreed proposal: target ``eligible`` verified eligible, ``moved`` verified moved; ``other`` allocated to
    the same partner but not in the proposal."""
    secretariat = f.user_with_role(Role.SECRETARIAT)
    partner = f.user_with_role(Role.PARTNER)
    cycle = f.CsrCycleFactory()
    eligible, moved, other = household("P3KE-ELIG"), household("P3KE-MOVED"), household("P3KE-OTHER")
    services.allocations_create(
        actor=secretariat,
        cycle=cycle,
        organization=partner.test_organization,
        assistance_kind=f.reference(AssistanceKind, "pangan"),
        household_ids=[eligible.pk, moved.pk, other.pk],
    )
    proposal = f.ProposalFactory(organization=partner.test_organization, cycle=cycle, starts_on=dt.date.today())
    services.proposal_update(actor=partner, proposal=proposal, household_ids=[eligible.pk, moved.pk])
    services.proposal_transition(actor=partner, proposal=proposal, action="submit")
    for target in proposal.targets.all():
        result = VerificationResult.ELIGIBLE if target.household_id == eligible.pk else VerificationResult.MOVED
        services.target_verify(actor=secretariat, target=target, result=result, note="Pindah")
    services.proposal_transition(actor=secretariat, proposal=proposal, action="verify")
    proposal = services.proposal_transition(
        actor=secretariat,
        proposal=proposal,
        action="agree",
        number="PKS/77/2026",
        signed_on=dt.date.today(),
        government_signatory="Kepala Bappeda",
        company_signatory="Direktur",
    )
    return {"partner": partner, "proposal": proposal, "eligible": eligible, "moved": moved, "other": other}


def test_the_programs_spreadsheet_refuses_rows_for_households_not_found_eligible(
    agreed: dict[str, Any], tmp_path: Path
) -> None:
    program = agreed["proposal"].program
    today = dt.date.today()
    path = xlsx(
        tmp_path,
        [
            ["P3KE-ELIG", "", today, 100000, 1, "Tersalurkan", ""],
            ["P3KE-MOVED", "", today, 100000, 1, "Tersalurkan", ""],
            ["P3KE-OTHER", "", today, 100000, 1, "Tersalurkan", ""],
        ],
    )
    job = upload_and_run(agreed["partner"], program, path)
    # The moved family went back to the pool: the partner no longer sees it at all. The other one is still its
    # allocation but not a target of this agreement.
    assert errors(job) == {3: ["household_unknown"], 4: ["not_listed_target"]}
    assert set(Intervention.objects.filter(program=program).values_list("household_id", flat=True)) == {
        agreed["eligible"].pk
    }
    message = job.row_errors.filter(code="not_listed_target").values_list("message", flat=True).first()
    assert message == rules.msg_not_listed_target(program)


def test_the_form_service_refuses_a_household_not_found_eligible(agreed: dict[str, Any]) -> None:
    program = agreed["proposal"].program
    with pytest.raises(DomainError) as caught:
        intervention_create(
            actor=agreed["partner"], program=program, household=agreed["other"], delivered_on=dt.date.today()
        )
    assert caught.value.code == "not_listed_target"
    logged = intervention_create(
        actor=agreed["partner"], program=program, household=agreed["eligible"], delivered_on=dt.date.today()
    )
    assert logged.intervention.pk


def test_programs_without_an_agreement_have_no_target_list() -> None:
    assert rules.listed_households(f.ProgramFactory()) is None
