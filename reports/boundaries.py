"""Validation of the GeoJSON boundary files the secretariat uploads for the gap map.

A file is a FeatureCollection; each feature is a Polygon or MultiPolygon whose code property (``kode`` by
default, dotted or plain) names a known kecamatan or desa under the chosen region. Every problem is reported
in Bahasa Indonesia with the feature's number, so the secretariat can fix the file in one pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from tkpk.identifiers import dotted_region_code
from tkpk.models import Region

MAX_ERRORS = 20
LEVEL_LABELS = {3: "kecamatan", 4: "desa/kelurahan"}


@dataclass
class BoundaryCheck:
    geojson: dict[str, Any] | None = None
    feature_count: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return self.geojson is not None and not self.errors


def _is_position(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) >= 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
    )


def _is_ring(value: Any) -> bool:
    return isinstance(value, list) and len(value) >= 4 and all(_is_position(p) for p in value)


def _is_polygon(value: Any) -> bool:
    return isinstance(value, list) and len(value) >= 1 and all(_is_ring(r) for r in value)


def _geometry_error(geometry: Any) -> str | None:
    if not isinstance(geometry, dict):
        return _("tidak punya geometri")
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        return None if _is_polygon(coordinates) else _("koordinat Polygon tidak sah")
    if kind == "MultiPolygon":
        ok = isinstance(coordinates, list) and len(coordinates) >= 1 and all(_is_polygon(p) for p in coordinates)
        return None if ok else _("koordinat MultiPolygon tidak sah")
    return _("geometri %(kind)s; hanya Polygon atau MultiPolygon yang diterima") % {"kind": kind or "-"}


def boundary_validate(
    *, content: bytes | str, region: Region, level: int, code_property: str = "kode"
) -> BoundaryCheck:
    """Parse and check one uploaded file; ``geojson`` is set only when there is no error."""
    check = BoundaryCheck()
    if level not in LEVEL_LABELS:
        check.errors.append(_("Tingkat batas harus kecamatan atau desa/kelurahan."))
        return check
    if region.level >= level:
        check.errors.append(
            _("Wilayah induk %(region)s tidak punya %(level)s di bawahnya.")
            % {"region": region, "level": LEVEL_LABELS[level]}
        )
        return check
    try:
        text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
        data = json.loads(text)
    except UnicodeDecodeError:
        check.errors.append(_("Berkas bukan teks UTF-8."))
        return check
    except json.JSONDecodeError as exc:
        check.errors.append(
            _("Berkas bukan JSON yang sah (baris %(line)s, kolom %(col)s).") % {"line": exc.lineno, "col": exc.colno}
        )
        return check
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        check.errors.append(_("Berkas harus berupa GeoJSON FeatureCollection."))
        return check
    features = data.get("features")
    if not isinstance(features, list) or not features:
        check.errors.append(_("FeatureCollection tidak berisi fitur."))
        return check
    known = set(Region.objects.filter(level=level, code__startswith=region.code).values_list("code", flat=True))
    seen: dict[str, int] = {}
    for index, feature in enumerate(features, start=1):
        if len(check.errors) >= MAX_ERRORS:
            check.errors.append(_("Masih ada kesalahan lain; perbaiki yang di atas dulu."))
            break
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            check.errors.append(_("Fitur ke-%(n)s: bukan objek Feature.") % {"n": index})
            continue
        problem = _geometry_error(feature.get("geometry"))
        if problem:
            check.errors.append(_("Fitur ke-%(n)s: %(problem)s.") % {"n": index, "problem": problem})
        properties = feature.get("properties")
        raw = properties.get(code_property) if isinstance(properties, dict) else None
        if raw in (None, ""):
            check.errors.append(
                _("Fitur ke-%(n)s: tidak ada properti kode wilayah '%(prop)s'.") % {"n": index, "prop": code_property}
            )
            continue
        code = str(raw).replace(".", "").strip()
        if code not in known:
            check.errors.append(
                _("Fitur ke-%(n)s: kode %(code)s bukan %(level)s di bawah %(region)s.")
                % {"n": index, "code": raw, "level": LEVEL_LABELS[level], "region": region}
            )
            continue
        if code in seen:
            check.errors.append(
                _("Fitur ke-%(n)s: kode %(code)s sudah dipakai fitur ke-%(first)s.")
                % {"n": index, "code": dotted_region_code(code), "first": seen[code]}
            )
            continue
        seen[code] = index
    if not check.errors:
        check.geojson = data
        check.feature_count = len(features)
    return check
