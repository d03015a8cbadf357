"""Programs, interventions and activity reports: which rows each actor's QuerySets and selectors return.

The row tables in matrix.py (PROGRAMS_SEEN, INTERVENTIONS_SEEN, ACTIVITY_REPORTS_SEEN, ...) restate the
``grant_q`` of programs/models.py; these tests hold the QuerySets (and the selectors and services built on them)
to exactly those rows, so the page, admin and API walks can rely on the tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Model, QuerySet

from programs.models import ActivityReport, Intervention, Program
from programs.selectors import household_deliveries, program_interventions, program_list, program_overview
from programs.services import organizations_for_programs, programs_for_logging
from tests.permissions.matrix import (
    ACTIVITY_REPORTS_SEEN,
    HOUSEHOLDS_SEEN,
    INTERVENTIONS_COUNTED,
    INTERVENTIONS_SEEN,
    PROGRAM_ORGS,
    PROGRAMS_LOGGABLE,
    PROGRAMS_SEEN,
)
from tests.permissions.world import (
    ACTORS,
    HOUSEHOLD_TARGETS,
    INTERVENTION_TARGETS,
    PROGRAM_TARGETS,
    REPORT_TARGETS,
    World,
)

pytestmark = pytest.mark.django_db


def keys(objects: dict[str, Model], qs: QuerySet[Any]) -> frozenset[str]:
    """The world keys of the rows in ``qs`` (a row the world does not name fails the test)."""
    by_pk = {obj.pk: key for key, obj in objects.items()}
    pks = list(qs.values_list("pk", flat=True))
    unknown = [pk for pk in pks if pk not in by_pk]
    assert unknown == [], f"rows outside the world: {unknown}"
    assert len(pks) == len(set(pks)), "a row is returned twice (a join fans out)"
    return frozenset(by_pk[pk] for pk in pks)


def test_the_world_has_every_target(world: World) -> None:
    assert set(world.programs) == set(PROGRAM_TARGETS)
    assert set(world.interventions) == set(INTERVENTION_TARGETS)
    assert set(world.activity_reports) == set(REPORT_TARGETS)
    for table in (PROGRAMS_SEEN, INTERVENTIONS_SEEN, ACTIVITY_REPORTS_SEEN, INTERVENTIONS_COUNTED):
        assert set(table) == set(ACTORS)


@pytest.mark.parametrize("actor", ACTORS)
def test_programs_for_user(world: World, actor: str) -> None:
    assert keys(world.programs, Program.objects.for_user(world.user(actor))) == PROGRAMS_SEEN[actor]


@pytest.mark.parametrize("actor", ACTORS)
def test_programs_for_aggregates(world: World, actor: str) -> None:
    """Programs have no aggregate-only rows: leadership reads (and counts) its region's programs."""
    assert keys(world.programs, Program.objects.for_aggregates(world.user(actor))) == PROGRAMS_SEEN[actor]


@pytest.mark.parametrize("actor", ACTORS)
def test_interventions_for_user(world: World, actor: str) -> None:
    assert keys(world.interventions, Intervention.objects.for_user(world.user(actor))) == INTERVENTIONS_SEEN[actor]


@pytest.mark.parametrize("actor", ACTORS)
def test_interventions_for_aggregates(world: World, actor: str) -> None:
    """Leadership counts its region's deliveries without opening one; the others count what they see."""
    qs = Intervention.objects.for_aggregates(world.user(actor))
    assert keys(world.interventions, qs) == INTERVENTIONS_COUNTED[actor]


@pytest.mark.parametrize("actor", ACTORS)
def test_activity_reports_for_user(world: World, actor: str) -> None:
    qs = ActivityReport.objects.for_user(world.user(actor))
    assert keys(world.activity_reports, qs) == ACTIVITY_REPORTS_SEEN[actor]


@pytest.mark.parametrize("actor", ACTORS)
def test_activity_reports_for_aggregates(world: World, actor: str) -> None:
    qs = ActivityReport.objects.for_aggregates(world.user(actor))
    assert keys(world.activity_reports, qs) == ACTIVITY_REPORTS_SEEN[actor]


def test_superuser_sees_every_row(world: World) -> None:
    assert keys(world.programs, Program.objects.for_user(world.superuser)) == set(PROGRAM_TARGETS)
    assert keys(world.interventions, Intervention.objects.for_user(world.superuser)) == set(INTERVENTION_TARGETS)
    assert keys(world.activity_reports, ActivityReport.objects.for_user(world.superuser)) == set(REPORT_TARGETS)


# ------------------------------------------------------------------------------------ selectors, services


@pytest.mark.parametrize("actor", ACTORS)
def test_program_list_selector(world: World, actor: str) -> None:
    assert keys(world.programs, program_list(user=world.user(actor))) == PROGRAMS_SEEN[actor]


@pytest.mark.parametrize("actor", ACTORS)
def test_program_list_realisation_counts_every_owner_delivery(world: World, actor: str) -> None:
    """``reached`` is the program's own realisation (all its deliveries), the same for whoever reads it."""
    for program in program_list(user=world.user(actor)):
        delivered = Intervention.objects.filter(program=program).delivered()
        assert program.reached == delivered.values("household_id").distinct().count()  # type: ignore[attr-defined]


@pytest.mark.parametrize("actor", ACTORS)
def test_programs_for_logging(world: World, actor: str) -> None:
    """Leadership sees programs but may log into none."""
    assert keys(world.programs, programs_for_logging(actor=world.user(actor))) == PROGRAMS_LOGGABLE[actor]


@pytest.mark.parametrize("actor", ACTORS)
def test_organizations_for_programs(world: World, actor: str) -> None:
    qs = organizations_for_programs(actor=world.user(actor))
    assert keys(world.organizations, qs) == PROGRAM_ORGS[actor]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("program_key", PROGRAM_TARGETS)
def test_program_interventions_selector(world: World, actor: str, program_key: str) -> None:
    """A program's delivery list: only the deliveries the actor may see, of that program."""
    qs = program_interventions(user=world.user(actor), program=world.programs[program_key])
    expected = {t for t in INTERVENTIONS_SEEN[actor] if t.split("/")[0] == program_key}
    assert keys(world.interventions, qs) == expected


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("target", HOUSEHOLD_TARGETS)
def test_household_deliveries(world: World, actor: str, target: str) -> None:
    """On a household the actor may open, every delivery from any owner (overlap check before delivering);
    on any other household nothing. By design this shows a partner the OPD's delivery to its household."""
    qs = household_deliveries(user=world.user(actor), household=world.households[target])
    expected = (
        {t for t in INTERVENTION_TARGETS if t.split("/")[1] == target} if target in HOUSEHOLDS_SEEN[actor] else set()
    )
    assert keys(world.interventions, qs) == expected


@pytest.mark.parametrize("actor", ACTORS)
def test_program_overview_counts_the_actors_programs(world: World, actor: str) -> None:
    rows = program_overview(user=world.user(actor), year=dt.date.today().year, dimension="organization")
    assert sum(row.programs for row in rows) == len(PROGRAMS_SEEN[actor])
    seen = [world.programs[key] for key in PROGRAMS_SEEN[actor]]
    assert {row.key for row in rows} == {str(p.organization_id) for p in seen}
    # Reached: each program's delivered households, counted whoever delivered (one household per program here).
    reached = {
        str(p.organization_id): Intervention.objects.filter(program__organization_id=p.organization_id)
        .delivered()
        .values("household_id")
        .distinct()
        .count()
        for p in seen
    }
    assert {row.key: row.reached for row in rows} == reached
