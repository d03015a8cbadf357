"""API endpoints × actor × in/out of scope (rules in matrix.py). No response ever carries a full NIK or No KK."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.permissions.matrix import (
    ACTORS,
    ACTORS_WITH_ORGANIZATION,
    API_ENDPOINTS,
    API_FORMATS,
    HOUSEHOLDS_SEEN,
    INTERVENTIONS_SEEN,
    KABUPATEN_SEEN,
    ORGS_SEEN,
    OWN,
    PROGRAMS_SEEN,
    REGION_TARGETS,
    Endpoint,
    api_expected,
    org_key,
)
from tests.permissions.world import KENDAL_MARK, KUKAR_MARK, World

pytestmark = pytest.mark.django_db


def _cases() -> list[Any]:
    cases = []
    for endpoint in API_ENDPOINTS:
        for fmt in API_FORMATS:
            for actor in ACTORS:
                for target in endpoint.targets:
                    if target == OWN and actor not in ACTORS_WITH_ORGANIZATION:
                        continue
                    where = f"{target}-" if target else ""
                    cases.append(pytest.param(actor, endpoint, target, fmt, id=f"{actor}-{where}{endpoint.name}{fmt}"))
    return cases


def _path(world: World, actor: str, endpoint: Endpoint, target: str | None, fmt: str) -> str:
    values: dict[str, object] = {}
    if target is not None:
        if endpoint.name == "program-detail":
            values["program"] = world.programs[target].pk
        elif endpoint.name == "intervention-detail":
            values["intervention"] = world.interventions[target].pk
        elif endpoint.name == "household-detail":
            values["household"] = world.households[target].pk
        elif endpoint.name == "region-detail":
            values["region"] = REGION_TARGETS[target]
        else:
            values["organization"] = world.organizations[org_key(actor, target)].pk
    return endpoint.path(fmt, **values)


def assert_no_identifiers(world: World, body: str) -> None:
    for secret in world.secret_identifiers:
        assert secret not in body, "a full NIK / No KK left through the API"


@pytest.mark.parametrize(("actor", "endpoint", "target", "fmt"), _cases())
def test_api(as_actor: Any, world: World, actor: str, endpoint: Endpoint, target: str | None, fmt: str) -> None:
    response = as_actor(actor).get(_path(world, actor, endpoint, target, fmt))

    expected = api_expected(actor, endpoint, target)
    if isinstance(expected, frozenset):
        assert response.status_code in expected
    else:
        assert response.status_code == expected
    body = response.content.decode()
    assert_no_identifiers(world, body)
    if response.status_code != 200:
        assert KENDAL_MARK not in body and KUKAR_MARK not in body
        return
    if endpoint.name.startswith(("program-", "intervention-")):
        # Deliveries name households: never one the actor could not open itself.
        for household_target, household in world.households.items():
            if household_target not in HOUSEHOLDS_SEEN[actor]:
                assert household.head_name not in body, f"{actor} reads the {household_target} household by name"
    data = json.loads(body)
    if endpoint.kind != "list":
        return
    rows = data["results"]
    assert data.get("next") is None, "the world is small: every list fits one page"
    if endpoint.name == "household-list":
        expected_ids = {world.households[t].pk for t in HOUSEHOLDS_SEEN[actor]}
        assert {row["id"] for row in rows} == expected_ids
        # Members come with the masked NIK only.
        for row in rows:
            assert "no_kk" not in row
            for member in row["members"]:
                assert "nik" not in member and member["nik_masked"]
    elif endpoint.name == "organization-list":
        assert {row["id"] for row in rows} == {world.organizations[k].pk for k in ORGS_SEEN[actor]}
    elif endpoint.name == "region-list":
        assert {row["code"] for row in rows} == KABUPATEN_SEEN[actor]
    elif endpoint.name == "program-list":
        assert {row["id"] for row in rows} == {world.programs[k].pk for k in PROGRAMS_SEEN[actor]}
    elif endpoint.name == "intervention-list":
        assert {row["id"] for row in rows} == {world.interventions[k].pk for k in INTERVENTIONS_SEEN[actor]}


# Filters must not widen the scope: asking for another region's rows by its code, name or NIK finds nothing.
FILTER_CASES = [
    ("secretariat", {"region": "64.02"}),
    ("secretariat", {"name": KUKAR_MARK}),
    ("opd_officer", {"region": "6402012001"}),
    ("partner", {"name": KENDAL_MARK}),
    ("partner_b", {"name": "Sutrisno"}),
    ("secretariat_kukar", {"region": "33.24"}),
    ("secretariat_province", {"region": "64"}),
]


@pytest.mark.parametrize(("actor", "params"), [pytest.param(a, p, id=f"{a}-{next(iter(p))}") for a, p in FILTER_CASES])
def test_api_household_filters_stay_in_scope(as_actor: Any, world: World, actor: str, params: dict[str, str]) -> None:
    response = as_actor(actor).get("/api/v1/households/", params)

    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids <= {world.households[t].pk for t in HOUSEHOLDS_SEEN[actor]}
    if actor == "partner":  # partner A asking for every Kendal name gets its one allocated household
        assert ids == {world.households["in-region"].pk}


@pytest.mark.parametrize("actor", ["secretariat", "opd_officer", "partner", "secretariat_province"])
def test_api_household_search_by_out_of_scope_nik_is_empty(as_actor: Any, world: World, actor: str) -> None:
    nik = world.heads["out-of-region"].nik
    response = as_actor(actor).get("/api/v1/households/", {"nik": nik})
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("actor", ["secretariat", "opd_officer", "partner"])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_api_is_read_only(as_actor: Any, world: World, actor: str, method: str) -> None:
    household = world.households["in-region"]
    client = as_actor(actor)
    url = "/api/v1/households/" if method == "post" else f"/api/v1/households/{household.pk}/"
    response = getattr(client, method)(url, data={"head_name": "Diganti"}, content_type="application/json")
    assert response.status_code == 405
    household.refresh_from_db()
    assert household.head_name != "Diganti"


@pytest.mark.parametrize("actor", ["anonymous", "secretariat", "leadership"])
def test_api_schema_has_no_data(as_actor: Any, world: World, actor: str) -> None:
    response = as_actor(actor).get("/api/schema/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/api/v1/households/" in body
    assert_no_identifiers(world, body)
    assert KENDAL_MARK not in body and KUKAR_MARK not in body
