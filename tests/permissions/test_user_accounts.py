"""A secretariat creates accounts only with a role inside its own region."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.factories import load_kendal, load_region, user_with_role
from tkpk.models import Membership
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

User = get_user_model()


def _add_user_payload(username: str, memberships: list[dict[str, object]]) -> dict[str, object]:
    data: dict[str, object] = {
        "username": username,
        "password1": "Sangat-rahasia-2026",
        "password2": "Sangat-rahasia-2026",
        "usable_password": "true",
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "1",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, membership in enumerate(memberships):
        for key, value in membership.items():
            data[f"memberships-{i}-{key}"] = value
    return data


def test_secretariat_cannot_create_an_account_without_a_role(client):
    load_kendal()
    secretariat = user_with_role(Role.SECRETARIAT)
    client.force_login(secretariat)
    response = client.post("/admin/auth/user/add/", _add_user_payload("tanpa_peran", []))
    assert response.status_code == 200
    assert not User.objects.filter(username="tanpa_peran").exists()


def test_secretariat_creates_an_account_with_a_role_in_its_region(client):
    load_kendal()
    secretariat = user_with_role(Role.SECRETARIAT)
    client.force_login(secretariat)
    org = secretariat.test_organization
    payload = _add_user_payload("pimpinan_baru", [{"organization": org.pk, "role": Role.LEADERSHIP}])
    response = client.post("/admin/auth/user/add/", payload)
    assert response.status_code == 302
    created = User.objects.get(username="pimpinan_baru")
    assert Membership.objects.filter(user=created, organization=org, role=Role.LEADERSHIP).exists()


def test_secretariat_cannot_give_a_role_in_another_region(client):
    load_kendal()
    load_region("64.02")
    secretariat = user_with_role(Role.SECRETARIAT)
    other_org = user_with_role(Role.SECRETARIAT, region_code="6402").test_organization
    client.force_login(secretariat)
    payload = _add_user_payload("penyusup", [{"organization": other_org.pk, "role": Role.SECRETARIAT}])
    response = client.post("/admin/auth/user/add/", payload)
    assert response.status_code == 200
    assert not User.objects.filter(username="penyusup").exists()
