"""Reads of the registry. Every one starts from ``for_user``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pghistory.models
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from households.models import Household, HouseholdSourceLink, Person, PersonSourceLink
from tkpk.identifiers import IdentifierError, clean_digits, normalize_region_code
from tkpk.models import Region, RegionLevel


@dataclass(frozen=True)
class HouseholdFilters:
    name: str = ""
    nik: str = ""
    id_keluarga: str = ""
    region: str = ""
    desil: int | None = None
    status: str = ""


def household_search(*, user: Any, filters: HouseholdFilters) -> QuerySet[Household]:
    """Households in the user's scope matching the filters, newest id last (stable paging, no count)."""
    qs = Household.objects.for_user(user).select_related("desa", "desa__parent")
    if filters.name:
        name = filters.name.strip()
        member_match = Person.objects.filter(name__icontains=name).values("household_id")
        qs = qs.filter(Q(head_name__icontains=name) | Q(pk__in=member_match))
    if filters.nik:
        qs = qs.filter(pk__in=Person.objects.filter(nik=clean_digits(filters.nik)).values("household_id"))
    if filters.id_keluarga:
        links = HouseholdSourceLink.objects.filter(external_id=filters.id_keluarga.strip()).values("household_id")
        qs = qs.filter(pk__in=links)
    if filters.region:
        try:
            code = normalize_region_code(filters.region)
        except IdentifierError:
            return qs.none()
        column = {2: "province_code", 4: "kabupaten_code", 6: "kecamatan_code", 10: "desa_id"}[len(code)]
        qs = qs.filter(**{column: code})
    if filters.desil is not None:
        qs = qs.filter(desil=filters.desil)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs.order_by("id")


def household_get(*, user: Any, pk: int) -> Household:
    """One household in the user's scope (404 otherwise) with members and provenance loaded."""
    scoped: QuerySet[Household] = Household.objects.for_user(user)
    members: QuerySet[Person] = Person.objects.order_by("id")
    links: QuerySet[HouseholdSourceLink] = HouseholdSourceLink.objects.select_related("source", "snapshot")
    qs = scoped.select_related("desa", "desa__parent", "status_verified_by").prefetch_related(
        Prefetch("members", queryset=members),
        Prefetch("source_links", queryset=links),
    )
    return get_object_or_404(qs, pk=pk)


def person_get(*, user: Any, pk: int) -> Person:
    return get_object_or_404(Person.objects.for_user(user).select_related("household"), pk=pk)


def person_links(*, household: Household) -> dict[int, list[PersonSourceLink]]:
    links: dict[int, list[PersonSourceLink]] = {}
    for link in PersonSourceLink.objects.filter(person__household=household).select_related("source"):
        links.setdefault(link.person_id, []).append(link)
    return links


EVENT_SUBJECTS = {"households.HouseholdEvent": _("Keluarga"), "households.PersonEvent": _("Anggota keluarga")}
EVENT_ACTIONS = {"insert": _("ditambahkan"), "update": _("diubah"), "delete": _("dihapus")}


def household_history(*, household: Household, limit: int = 100) -> list[Any]:
    """Change events (who, when, what changed) of the household and its members, newest first.

    Recorded by django-pghistory triggers, which exist on PostgreSQL only; SQLite has no history.
    """
    if connection.vendor != "postgresql":
        return []
    events = list(
        pghistory.models.MiddlewareEvents.objects.references(household).order_by("-pgh_created_at", "-pgh_id")[:limit]
    )
    for event in events:
        subject = EVENT_SUBJECTS.get(event.pgh_model, event.pgh_model)
        event.event_label = f"{subject} · {EVENT_ACTIONS.get(event.pgh_label, event.pgh_label)}"
    return events


def region_options(*, user: Any, limit: int = 2000) -> list[Region]:
    """Kecamatan and desa of the user's area for the search form's suggestions (kecamatan only when the
    area is too big, e.g. a province)."""
    regions = Region.objects.for_user(user).filter(level__gte=RegionLevel.KECAMATAN).select_related("parent")
    if regions.count() > limit:
        regions = regions.filter(level=RegionLevel.KECAMATAN)
    return list(regions.order_by("code")[:limit])
