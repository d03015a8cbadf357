"""Source mismatch report: where P3KE, DTKS and DTSEN disagree, per desa, for field verification.

All reads start from ``for_user`` and are aggregate queries (Exists / GROUP BY), no per-row work.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from households.models import Household, HouseholdSourceLink, Person
from tkpk.identifiers import mask_identifier
from tkpk.models import Region


@dataclass(frozen=True)
class MismatchKind:
    code: str
    label: Any
    description: Any


KINDS = [
    MismatchKind(
        "p3ke_desil1_not_in_dtks",
        _("Desil 1 P3KE, tidak ada di DTKS"),
        _("Keluarga desil 1 menurut P3KE yang tidak ditemukan di DTKS."),
    ),
    MismatchKind(
        "dtks_not_in_p3ke",
        _("Ada di DTKS, tidak ada di P3KE"),
        _("Keluarga yang tercatat di DTKS tetapi tidak ada di P3KE."),
    ),
    MismatchKind(
        "desil_disagrees",
        _("Desil berbeda antarsumber"),
        _("Sumber-sumber data memberi desil yang berbeda untuk keluarga yang sama."),
    ),
    MismatchKind(
        "nik_in_two_households",
        _("Satu NIK di dua keluarga"),
        _("NIK yang sama tercatat pada anggota dua keluarga atau lebih."),
    ),
    MismatchKind(
        "person_in_two_families",
        _("Satu orang di dua keluarga"),
        _("Nama dan tanggal lahir yang sama tercatat di dua keluarga atau lebih di desa yang sama."),
    ),
]
KIND_BY_CODE = {kind.code: kind for kind in KINDS}


def _link(source: str, **extra: Any) -> Exists:
    return Exists(HouseholdSourceLink.objects.filter(household=OuterRef("pk"), source_id=source, **extra))


def mismatch_households(*, user: Any, code: str) -> QuerySet[Household]:
    """The households in the user's scope that fall in one mismatch kind."""
    base = Household.objects.for_user(user)
    if code == "p3ke_desil1_not_in_dtks":
        return base.filter(_link("p3ke", desil=1)).exclude(_link("dtks"))
    if code == "dtks_not_in_p3ke":
        return base.filter(_link("dtks")).exclude(_link("p3ke"))
    if code == "desil_disagrees":
        disagreeing = (
            HouseholdSourceLink.objects.filter(desil__isnull=False)
            .values("household_id")
            .annotate(n=Count("desil", distinct=True))
            .filter(n__gt=1)
            .values("household_id")
        )
        return base.filter(pk__in=disagreeing)
    persons = Person.objects.for_user(user)
    if code == "nik_in_two_households":
        shared = (
            persons.filter(nik__isnull=False)
            .values("nik")
            .annotate(n=Count("household", distinct=True))
            .filter(n__gt=1)
            .values("nik")
        )
        return base.filter(pk__in=persons.filter(nik__in=shared).values("household_id"))
    if code == "person_in_two_families":
        keyed = persons.filter(birth_date__isnull=False).annotate(name_key=Upper("name"))
        shared_keys = (
            keyed.values("name_key", "birth_date", "household__desa_id")
            .annotate(n=Count("household", distinct=True))
            .filter(n__gt=1)
        )
        condition = Q(pk__in=[])
        for key in shared_keys[:5000]:
            condition |= Q(
                name_key=key["name_key"], birth_date=key["birth_date"], household__desa_id=key["household__desa_id"]
            )
        return base.filter(pk__in=keyed.filter(condition).values("household_id"))
    raise ValueError(code)


def mismatch_counts_by_desa(*, user: Any) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Rows ``{desa, kecamatan, <kind>: n, ...}`` sorted by kecamatan/desa, plus totals per kind."""
    by_desa: dict[str, dict[str, Any]] = {}
    totals: dict[str, int] = {}
    for kind in KINDS:
        counts = mismatch_households(user=user, code=kind.code).values("desa_id").annotate(n=Count("id")).order_by()
        totals[kind.code] = 0
        for row in counts:
            by_desa.setdefault(row["desa_id"], {})[kind.code] = row["n"]
            totals[kind.code] += row["n"]
    regions = Region.objects.filter(code__in=by_desa).select_related("parent")
    rows = [
        {
            "code": region.code,
            "desa": region,
            "kecamatan": region.parent,
            "counts": [by_desa[region.code].get(kind.code, 0) for kind in KINDS],
        }
        for region in regions
    ]
    rows.sort(key=lambda r: str(r["code"]))
    return rows, totals


EXPORT_HEADERS = [
    _("Jenis ketidaksesuaian"),
    _("ID internal"),
    _("ID Keluarga P3KE"),
    _("ID DTKS"),
    _("Nama kepala keluarga"),
    _("Nomor KK (tersamar)"),
    _("Alamat"),
    _("Desa/kelurahan"),
    _("Kecamatan"),
    _("Kode desa"),
    _("Desil registri"),
    _("Desil per sumber"),
]


def mismatch_export_rows(*, user: Any, codes: list[str] | None = None) -> Iterator[list[Any]]:
    """One row per (kind, household) for the verification list; identifiers masked."""
    for kind in KINDS:
        if codes and kind.code not in codes:
            continue
        households = (
            mismatch_households(user=user, code=kind.code)
            .select_related("desa", "desa__parent")
            .prefetch_related("source_links")
            .order_by("desa_id", "id")
        )
        for household in households.iterator(chunk_size=2000):
            links = {link.source_id: link for link in household.source_links.all()}
            per_source = ", ".join(
                f"{source.upper()}={link.desil}" for source, link in sorted(links.items()) if link.desil
            )
            yield [
                str(kind.label),
                household.pk,
                links["p3ke"].external_id if "p3ke" in links else "",
                links["dtks"].external_id if "dtks" in links else "",
                household.head_name,
                mask_identifier(household.no_kk),
                household.address,
                household.desa.name,
                household.desa.parent.name if household.desa.parent else "",
                household.desa.dotted_code,
                household.desil or "",
                per_source,
            ]
