"""Program and intervention writes through the API × actor × row in/out of scope (rules: matrix.API_WRITES).

Every case checks the status, that a refused write (403, 404, 400 or a failed bulk item) changed nothing, and
that no answer names a program, household or region the actor may not see.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db.models import Model

from programs.models import Intervention, InterventionStatus, Program
from tests.permissions.matrix import (
    ACTORS,
    ANONYMOUS_API,
    API_WRITES,
    HOUSEHOLDS_SEEN,
    LOG_HOUSEHOLD,
    ApiWrite,
    visible_program_marks,
)
from tests.permissions.world import (
    KENDAL_MARK,
    KUKAR_MARK,
    OWN_AGENCY,
    PROGRAM_MARK,
    PROGRAM_OWNER,
    World,
)

pytestmark = pytest.mark.django_db

WRITE_MARK = "TulisApi7799"
CASES = [
    pytest.param(actor, write, target, id=f"{actor}-{target + '-' if target else ''}{write.name}")
    for write in API_WRITES
    for actor in ACTORS
    for target in write.targets
]
SUCCESS = (200, 201)


def _target(world: World, write: ApiWrite, target: str | None) -> Model | None:
    if target is None or write.target_kind is None:
        return None
    return {  # type: ignore[no-any-return]
        "program": world.programs,
        "intervention": world.interventions,
        "organization": world.organizations,
    }[write.target_kind][target]


def _body(world: World, write: ApiWrite, obj: Model | None) -> dict[str, Any]:
    today = dt.date.today()
    if write.name == "program-create":
        template = world.programs[OWN_AGENCY]
        assert obj is not None
        return {
            "organization": obj.pk,
            "code": f"api-{WRITE_MARK.lower()}",
            "name": f"Program {WRITE_MARK}",
            "year": today.year,
            "cluster": template.cluster.code,
            "strategy": template.strategy.code,
            "assistance_kind": template.assistance_kind.code,
            "funding_source": "apbd",
            "starts_on": dt.date(today.year, 1, 1).isoformat(),
            "ends_on": dt.date(today.year, 12, 31).isoformat(),
        }
    if write.name == "program-patch":
        return {"name": f"Program {WRITE_MARK}"}
    if write.name in ("intervention-create", "intervention-bulk"):
        assert obj is not None
        item = {
            "program": obj.pk,
            "household": world.households[LOG_HOUSEHOLD].pk,
            "delivered_on": today.isoformat(),
            "value": "250000",
            "note": WRITE_MARK,
        }
        return {"items": [item]} if write.name == "intervention-bulk" else item
    return {"reason": f"Batal {WRITE_MARK}"}


def _snapshot(obj: Model | None) -> tuple[Any, ...]:
    row: tuple[Any, ...] = ()
    if isinstance(obj, Program):
        fresh = Program.objects.get(pk=obj.pk)
        row = (fresh.name, fresh.organization_id)
    elif isinstance(obj, Intervention):
        fresh_i = Intervention.objects.get(pk=obj.pk)
        row = (fresh_i.status, fresh_i.cancel_reason)
    return (*row, Program.objects.count(), Intervention.objects.count())


def assert_no_leak(world: World, actor: str, body: str) -> None:
    for key, mark in PROGRAM_MARK.items():
        if key not in visible_program_marks(actor):
            assert mark not in body, f"{mark} shown to {actor}"
    for target, household in world.households.items():
        if target not in HOUSEHOLDS_SEEN[actor]:
            assert household.head_name not in body
    if actor != "secretariat_kukar":
        assert KUKAR_MARK not in body
    if actor in ("secretariat_kukar", "no_membership", "anonymous"):
        assert KENDAL_MARK not in body
    for secret in world.secret_identifiers:
        assert secret not in body


@pytest.mark.parametrize(("actor", "write", "target"), CASES)
def test_api_write(as_actor: Any, world: World, actor: str, write: ApiWrite, target: str | None) -> None:
    obj = _target(world, write, target)
    path = write.path(**({write.target_kind: obj.pk} if obj is not None and write.target_kind else {}))
    before = _snapshot(obj)

    client = as_actor(actor)
    send = getattr(client, write.method.lower())
    response = send(path, data=json.dumps(_body(world, write, obj)), content_type="application/json")

    body = response.content.decode()
    if actor == "anonymous":
        assert response.status_code in ANONYMOUS_API
        expected: int | None = None
    else:
        expected = write.expect(actor, target)
        assert response.status_code == expected, (response.status_code, body[:300])
    assert_no_leak(world, actor, body)
    created = expected in SUCCESS and not (write.name == "intervention-bulk" and expected == 200)
    if created:
        assert _snapshot(obj) != before, f"{actor}: {write.name} answered {expected} but wrote nothing"
        if write.name == "intervention-cancel":
            assert Intervention.objects.get(pk=obj.pk).status == InterventionStatus.CANCELLED  # type: ignore[union-attr]
    else:
        assert _snapshot(obj) == before, f"{actor}: a refused {write.name} ({response.status_code}) wrote something"
    if write.name == "intervention-bulk" and expected in SUCCESS:
        data = response.json()
        assert (data["created"], data["failed"]) == ((1, 0) if expected == 201 else (0, 1))


# ------------------------------------------------------------------------------------ resolving households


@pytest.mark.parametrize("by", ["nik", "id_keluarga"])
@pytest.mark.parametrize(
    ("actor", "program_key"), [("partner", "partner"), ("partner_b", "partner-b"), ("opd_officer", "opd")]
)
def test_household_out_of_scope_by_nik_or_id_keluarga_is_not_found(
    as_actor: Any, world: World, actor: str, program_key: str, by: str
) -> None:
    """Naming a household by NIK or ID Keluarga reaches only households the actor may open (never echoing one)."""
    others = [t for t in world.households if t not in HOUSEHOLDS_SEEN[actor]]
    for target in others:
        head = world.heads[target]
        reference = head.nik if by == "nik" else world.households[target].source_links.get().external_id
        before = Intervention.objects.count()
        response = as_actor(actor).post(
            "/api/v1/interventions/",
            data=json.dumps(
                {"program": world.programs[program_key].pk, by: reference, "delivered_on": dt.date.today().isoformat()}
            ),
            content_type="application/json",
        )
        assert response.status_code == 400, (target, response.content[:200])
        assert response.json()["code"] == "household_not_found"
        assert Intervention.objects.count() == before
        assert head.nik not in response.content.decode()
        assert world.households[target].head_name not in response.content.decode()


@pytest.mark.parametrize(
    ("actor", "params", "expected"),
    [
        ("opd_officer", {"program": "other-agency"}, set()),
        ("opd_officer", {"household": "in-region"}, {"opd/in-region"}),
        ("partner", {"household": "in-region"}, {"partner/in-region"}),  # not the agencies' deliveries to it
        ("partner", {"program": "opd"}, set()),
        ("secretariat", {"desa": "64.02"}, set()),
        ("secretariat_kukar", {"desa": "33.24"}, set()),
    ],
)
def test_intervention_filters_stay_in_scope(
    as_actor: Any, world: World, actor: str, params: dict[str, str], expected: set[str]
) -> None:
    query = dict(params)
    if "program" in query:
        query["program"] = str(world.programs[query["program"]].pk)
    if "household" in query:
        query["household"] = str(world.households[query["household"]].pk)
    response = as_actor(actor).get("/api/v1/interventions/", query)
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {world.interventions[k].pk for k in expected}


@pytest.mark.parametrize(
    ("actor", "params"),
    [
        ("opd_officer", {"organization": "other_agency"}),
        ("partner", {"organization": "partner_b"}),
        ("secretariat", {"organization": "kukar_opd"}),
        ("secretariat", {"q": KUKAR_MARK}),
    ],
)
def test_program_filters_stay_in_scope(as_actor: Any, world: World, actor: str, params: dict[str, str]) -> None:
    query = dict(params)
    if "organization" in query:
        query["organization"] = str(world.organizations[query["organization"]].pk)
    response = as_actor(actor).get("/api/v1/programs/", query)
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("actor", "program_key", "organization"),
    [
        ("opd_officer", "opd", "other_agency"),  # hand its program to another agency
        ("partner", "partner", "partner_b"),
        ("secretariat", "opd", "kukar_opd"),  # move a Kendal program to Kutai Kartanegara
    ],
)
def test_program_cannot_be_moved_to_an_organization_out_of_reach(
    as_actor: Any, world: World, actor: str, program_key: str, organization: str
) -> None:
    program = world.programs[program_key]
    response = as_actor(actor).patch(
        f"/api/v1/programs/{program.pk}/",
        data=json.dumps({"organization": world.organizations[organization].pk}),
        content_type="application/json",
    )
    assert response.status_code == 400
    program.refresh_from_db()
    assert program.organization_id == world.organizations[PROGRAM_OWNER[program_key]].pk
