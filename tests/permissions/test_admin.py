"""The admin × actor × in/out of region, walking every ModelAdmin registered in ``admin.site``.

A ModelAdmin registered without a row in ``matrix.ADMIN_KIND`` fails ``test_every_registered_admin_is_in_the_
matrix``; once listed, its changelist, change view and every URL it adds (import, export, password, ...) are
walked for every actor. Every actor except ``anonymous`` is staff, so a refusal proves the role blocks.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.contrib.messages import get_messages
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, reverse

from tests.permissions.matrix import (
    ACTORS,
    ADMIN_KIND,
    ADMIN_SIDES_SEEN,
    AUDIT,
    LOGIN,
    POSTGRES_ONLY_ADMINS,
    REFERENCE,
    SUPERUSER_ONLY,
    UNSCOPED_BY_DESIGN,
    admin_changelist_expected,
    caps,
)
from tests.permissions.world import KENDAL_MARK, KUKAR_MARK, World
from tkpk.models import Membership, Organization, Region
from tkpk.scoping import Cap, ScopedAdminMixin

pytestmark = pytest.mark.django_db

REGISTRY: dict[str, admin.ModelAdmin[Any]] = {m._meta.label_lower: a for m, a in admin.site._registry.items()}
BORDER_LABELS = sorted(label for label, kind in ADMIN_KIND.items() if kind != SUPERUSER_ONLY)
ADMIN_ACTORS = sorted(ADMIN_SIDES_SEEN)
NON_ADMIN_ACTORS = [a for a in ACTORS if a != "anonymous" and Cap.ADMIN not in caps(a)]
MARK = {"kendal": KENDAL_MARK, "kukar": KUKAR_MARK}


def marks(label: str) -> list[pytest.MarkDecorator]:
    return [pytest.mark.postgres] if label in POSTGRES_ONLY_ADMINS else []


def changelist_url(label: str) -> str:
    app_label, model_name = label.split(".")
    return reverse(f"admin:{app_label}_{model_name}_changelist")


def change_url(obj: Model) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def assert_admin_login(response: Any) -> None:
    assert response.status_code == 302, response.status_code
    assert response["Location"].startswith("/admin/login/"), response["Location"]


def assert_not_found(response: Any) -> None:
    """Django admin answers an object outside get_queryset with a redirect to the index ("doesn't exist")."""
    if response.status_code == 302:
        assert response["Location"] == reverse("admin:index"), response["Location"]
        assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["warning"]  # "... doesn't exist"
    else:
        assert response.status_code == 404, response.status_code


def client_for(world: World, actor: str) -> Client:
    client = Client()
    user = world.superuser if actor == "superuser" else world.user(actor)
    if user is not None:
        client.force_login(user)
    return client


# ------------------------------------------------------------------------------------ the registry


def test_every_registered_admin_is_in_the_matrix() -> None:
    """A newly registered ModelAdmin must get a row in matrix.ADMIN_KIND (and so in every test below)."""
    assert set(REGISTRY) == set(ADMIN_KIND)


def test_role_admins_are_scoped(world: World) -> None:
    """Admins a role reaches start from for_user (ScopedAdminMixin) and have a row on each side of the border."""
    for label, kind in ADMIN_KIND.items():
        if kind == SUPERUSER_ONLY:
            continue
        assert isinstance(REGISTRY[label], ScopedAdminMixin), f"{label} is not a ScopedAdminMixin admin"
        if label not in UNSCOPED_BY_DESIGN:
            assert set(world.border.get(label, {})) == {"kendal", "kukar"}, f"{label}: no border rows in world.py"


# ------------------------------------------------------------------------------------ changelists

CHANGELIST_CASES = [
    pytest.param(actor, label, id=f"{actor}-{label}-changelist", marks=marks(label))
    for label in sorted(REGISTRY)
    for actor in ACTORS
]


@pytest.mark.parametrize(("actor", "label"), CHANGELIST_CASES)
def test_admin_changelist(world: World, db: None, actor: str, label: str) -> None:
    response = client_for(world, actor).get(changelist_url(label))

    expected = admin_changelist_expected(actor, label)
    if expected == LOGIN:
        assert_admin_login(response)
        return
    assert response.status_code == expected
    if expected != 200 or label not in world.border:
        return
    # Rows: exactly the sides of the border this actor's region covers.
    shown = set(response.context["cl"].queryset.values_list("pk", flat=True))
    for side, obj in world.border[label].items():
        seen = side in ADMIN_SIDES_SEEN[actor]
        assert (obj.pk in shown) == seen, f"{label} {side} row {'missing' if seen else 'LEAKED'}"
    # Nothing of the other region anywhere on the page (columns, filters, counts).
    body = response.content.decode()
    for side, mark in MARK.items():
        if side not in ADMIN_SIDES_SEEN[actor]:
            assert mark not in body, f"{label} changelist shows {side} data (filter choices or a column)"


@pytest.mark.parametrize("label", [pytest.param(label, marks=marks(label)) for label in sorted(REGISTRY)])
def test_superuser_reaches_every_changelist(world: World, db: None, label: str) -> None:
    """The URLs above are real: the superuser gets 200 on all of them."""
    assert client_for(world, "superuser").get(changelist_url(label)).status_code == 200


def test_secretariat_without_staff_flag_is_sent_to_admin_login(world: World, db: None) -> None:
    user = world.user("secretariat")
    user.is_staff = False
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    assert_admin_login(client.get(changelist_url("households.household")))


@pytest.mark.parametrize("actor", NON_ADMIN_ACTORS)
def test_admin_index_lists_nothing_for_roles_without_admin(world: World, db: None, actor: str) -> None:
    response = client_for(world, actor).get(reverse("admin:index"))
    assert response.status_code == 200  # staff reach the index page ...
    assert response.context["app_list"] == []  # ... and find nothing on it


# ------------------------------------------------------------------------------------ change views

CHANGE_CASES = [
    pytest.param(actor, label, side, id=f"{actor}-{'in' if side == 'kendal' else 'out-of'}-region-{label}-change")
    for label in BORDER_LABELS
    if label not in UNSCOPED_BY_DESIGN
    for actor in ACTORS
    for side in ("kendal", "kukar")
]


@pytest.mark.parametrize(("actor", "label", "side"), CHANGE_CASES)
def test_admin_change_view(world: World, db: None, actor: str, label: str, side: str) -> None:
    """Ids say in/out of region from Kendal's point of view (the side of the object)."""
    obj = world.border[label][side]
    response = client_for(world, actor).get(change_url(obj))

    expected = admin_changelist_expected(actor, label)
    if expected == LOGIN:
        assert_admin_login(response)
    elif expected != 200:
        assert response.status_code == expected
    elif side in ADMIN_SIDES_SEEN[actor]:
        assert response.status_code == 200
        assert response.context["original"].pk == obj.pk
    else:
        assert_not_found(response)
        assert MARK[side] not in response.content.decode()


READ_ONLY_LABELS = [label for label in BORDER_LABELS if ADMIN_KIND[label] in (REFERENCE, AUDIT)]


@pytest.mark.parametrize("label", READ_ONLY_LABELS)
def test_secretariat_reads_but_cannot_write_reference_and_audit(world: World, db: None, label: str) -> None:
    model = REGISTRY[label].model
    obj = world.border[label]["kendal"] if label in world.border else model._default_manager.order_by("pk").first()
    client = client_for(world, "secretariat")
    app_label, model_name = label.split(".")

    view = client.get(change_url(obj))
    assert view.status_code == 200
    assert view.context["has_change_permission"] is False
    assert client.post(change_url(obj), {}).status_code == 403
    assert client.get(reverse(f"admin:{app_label}_{model_name}_add")).status_code == 403
    delete_url = reverse(f"admin:{app_label}_{model_name}_delete", args=[obj.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert model._default_manager.filter(pk=obj.pk).exists()


# ------------------------------------------------------------------------------ every admin URL


def _admin_urls(label: str, object_pk: object) -> list[tuple[str, str]]:
    """(pattern, path) of every URL the ModelAdmin serves, object placeholders filled with ``object_pk``."""
    model_admin = REGISTRY[label]
    prefix = changelist_url(label)
    urls = []
    for pattern in model_admin.get_urls():
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        urls.append((route or "changelist", prefix + re.sub(r"<[^>]+>", str(object_pk), route)))
    return urls


def _sample_pk(world: World, label: str) -> object:
    if label in world.border:
        return world.border[label]["kendal"].pk
    first = REGISTRY[label].model._default_manager.order_by("pk").first()
    return first.pk if first else 1


def _follow_within_admin(client: Client, path: str, method: str) -> Any:
    """Request ``path``; follow redirects that stay on the same admin (e.g. ``<id>/`` → ``<id>/change/``)."""
    response = client.post(path, {}) if method == "POST" else client.get(path)
    for _hop in range(3):
        location = response.get("Location", "") if response.status_code == 302 else ""
        if not location or location.startswith(("/admin/login/", reverse("admin:index") + "?")):
            break
        if location == reverse("admin:index"):
            break
        response = client.get(location)
    return response


WALK_CASES = [
    pytest.param(actor, label, method, id=f"{actor}-{label}-{method}", marks=marks(label))
    for label in sorted(REGISTRY)
    for actor in NON_ADMIN_ACTORS
    for method in ("GET", "POST")
]


@pytest.mark.parametrize(("actor", "label", "method"), WALK_CASES)
def test_every_admin_url_refuses_roles_without_admin(
    world: World, db: None, actor: str, label: str, method: str
) -> None:
    """Staff without the admin capability get 403 on every URL a ModelAdmin serves (import/export included)."""
    client = client_for(world, actor)
    reached = {}
    for route, path in _admin_urls(label, _sample_pk(world, label)):
        response = _follow_within_admin(client, path, method)
        not_found = response.status_code == 302 and response["Location"] == reverse("admin:index")
        if response.status_code not in (403, 405) and not not_found:
            reached[route] = response.status_code
    assert reached == {}, f"{actor} ({method}) reaches {label}: {reached}"


OUT_OF_REGION_WALK = [
    pytest.param(actor, label, id=f"{actor}-out-of-region-{label}")
    for label in BORDER_LABELS
    if label not in UNSCOPED_BY_DESIGN
    for actor in ADMIN_ACTORS
]


@pytest.mark.parametrize(("actor", "label"), OUT_OF_REGION_WALK)
def test_every_object_url_hides_out_of_region_objects(world: World, db: None, actor: str, label: str) -> None:
    """history, delete, change, password, ... of the other side's object: not found, never shown."""
    (other_side,) = {"kendal", "kukar"} - ADMIN_SIDES_SEEN[actor]
    obj = world.border[label][other_side]
    client = client_for(world, actor)
    shown = {}
    for route, path in _admin_urls(label, obj.pk):
        if "<" not in route:
            continue
        response = _follow_within_admin(client, path, "GET")
        if response.status_code == 200 or MARK[other_side] in response.content.decode():
            shown[route] = response.status_code
    assert shown == {}, f"{actor} opens a {other_side} {label} through {shown}"


# ------------------------------------------------------------------------------------ autocomplete

# What to type to find rows of each remote model on both sides of the border (names carry the region mark).
AUTOCOMPLETE_TERMS = {
    "households.household": "Rahasia",
    "households.person": "Rahasia",
    "tkpk.organization": "Rahasia",
    "auth.user": "Rahasia",
    "tkpk.region": None,  # regions: each side's desa name
}


def _autocomplete_cases() -> list[Any]:
    cases = []
    for label in sorted(REGISTRY):
        model_admin = REGISTRY[label]
        for field_name in model_admin.autocomplete_fields:
            remote = model_admin.model._meta.get_field(field_name).related_model._meta.label_lower
            for actor in [*ADMIN_ACTORS, *NON_ADMIN_ACTORS]:
                cases.append(pytest.param(actor, label, field_name, remote, id=f"{actor}-{label}.{field_name}"))
    return cases


@pytest.mark.parametrize(("actor", "label", "field_name", "remote"), _autocomplete_cases())
def test_admin_autocomplete(world: World, db: None, actor: str, label: str, field_name: str, remote: str) -> None:
    """/admin/autocomplete/ answers from the remote admin's scoped queryset; other roles get 403."""
    assert remote in AUTOCOMPLETE_TERMS, f"new autocomplete target {remote}: add a search term"
    app_label, model_name = label.split(".")
    client = client_for(world, actor)
    found: dict[str, bool] = {}
    for side, obj in world.border[remote].items():
        term = AUTOCOMPLETE_TERMS[remote] or obj.name  # type: ignore[attr-defined]
        response = client.get(
            reverse("admin:autocomplete"),
            {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": term},
        )
        if actor in NON_ADMIN_ACTORS:
            assert response.status_code == 403
            return
        assert response.status_code == 200
        ids = {row["id"] for row in response.json()["results"]}
        found[side] = str(obj.pk) in ids
    assert found == {side: side in ADMIN_SIDES_SEEN[actor] for side in found}


# ------------------------------------------------------------------------------ writes that widen scope


def _organization_form(org: Organization, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": org.kind,
        "name": org.name,
        "short_code": org.short_code,
        "sector": org.sector,
        "region": org.region_id,
        "is_active": "on",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("region_code", ["33", "6402"])
def test_secretariat_cannot_move_its_organization_out_of_its_region(world: World, db: None, region_code: str) -> None:
    """Moving the own secretariat to the province (33) or another kabupaten would widen the user's own scope."""
    org = world.organizations["secretariat"]
    response = client_for(world, "secretariat").post(change_url(org), _organization_form(org, region=region_code))

    org.refresh_from_db()
    assert org.region_id == "3324", f"Kendal secretariat re-homed itself to {org.region_id}"
    assert response.status_code == 200 and response.context["adminform"].form.errors


def test_secretariat_cannot_create_an_organization_above_its_region(world: World, db: None) -> None:
    data = _organization_form(world.organizations["secretariat"], name="Sekretariat Bayangan", short_code="bayangan")
    data["region"] = "33"
    client_for(world, "secretariat").post(reverse("admin:tkpk_organization_add"), data)

    assert not Organization.objects.filter(short_code="bayangan").exists()


def test_membership_admin_refuses_a_user_outside_the_region(world: World, db: None) -> None:
    """Giving the Kukar secretariat user a Kendal role would put that account (password included) in Kendal's hands."""
    kukar_user = world.user("secretariat_kukar")
    client = client_for(world, "secretariat")
    client.post(
        reverse("admin:tkpk_membership_add"),
        {"user": kukar_user.pk, "organization": world.organizations["secretariat"].pk, "role": "secretariat"},
    )

    assert not Membership.objects.filter(user=kukar_user, organization=world.organizations["secretariat"]).exists()
    password_page = client.get(reverse("admin:auth_user_password_change", args=[kukar_user.pk]))
    assert password_page.status_code != 200


def _import(client: Client, label: str, csv_text: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    app_label, model_name = label.split(".")
    model_admin = REGISTRY[label]
    formats = [f().get_title() for f in model_admin.get_import_formats()]
    upload = SimpleUploadedFile("data.csv", csv_text.encode(), content_type="text/csv")
    first = client.post(
        reverse(f"admin:{app_label}_{model_name}_import"),
        {"format": str(formats.index("csv")), "import_file": upload, "resource": "0"},
    )
    if first.status_code != 200 or not first.context or "confirm_form" not in first.context:
        return first
    return client.post(reverse(f"admin:{app_label}_{model_name}_process_import"), first.context["confirm_form"].initial)


def test_organization_import_cannot_touch_other_regions(world: World, db: None) -> None:
    """The import takes any region and updates any organization by short_code: it must stay in Kendal too."""
    own, kukar = world.organizations["secretariat"], world.organizations["secretariat_kukar"]
    csv_text = (
        "id,kind,name,short_code,sector,region,is_active\n"
        f"{own.pk},secretariat,{own.name},{own.short_code},,6402,1\n"
        f"{kukar.pk},secretariat,{kukar.name},{kukar.short_code},,6402,0\n"
        ",secretariat,Sekretariat Bayangan,bayangan-import,,33,1\n"
    )
    _import(client_for(world, "secretariat"), "tkpk.organization", csv_text)

    own.refresh_from_db()
    kukar.refresh_from_db()
    assert own.region_id == "3324", "Kendal secretariat moved itself into Kutai Kartanegara by import"
    assert kukar.is_active, "Kendal secretariat deactivated the Kutai Kartanegara secretariat by import"
    assert not Organization.objects.filter(short_code="bayangan-import").exists()


def test_region_import_is_superuser_only(world: World, db: None) -> None:
    """Regions are superuser_only_write: the import page must refuse the secretariat as the change form does."""
    client = client_for(world, "secretariat")
    assert client.get(reverse("admin:tkpk_region_import")).status_code == 403
    _import(client, "tkpk.region", "code,name,level,kind,parent,postal_code\n3324012001,Desa Diganti,4,desa,332401,\n")
    assert Region.objects.get(code="3324012001").name != "Desa Diganti"


@pytest.mark.parametrize("actor", ADMIN_ACTORS)
def test_organization_export_is_scoped(world: World, db: None, actor: str) -> None:
    client = client_for(world, actor)
    url = reverse("admin:tkpk_organization_export")
    form = client.get(url).context["form"]
    data = {name: "on" for name, f in form.fields.items() if isinstance(f, forms.BooleanField)}
    formats = [f().get_title() for f in REGISTRY["tkpk.organization"].get_export_formats()]
    data.update({"format": str(formats.index("csv")), "resource": "0"})
    response = client.post(url, data)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode()
    for side, mark in MARK.items():
        assert (mark in body) == (side in ADMIN_SIDES_SEEN[actor])
