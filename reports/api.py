"""API of the coverage-gap figures: ``/api/v1/gaps/summary/`` and the paged ``/api/v1/gaps/households/``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reports import selectors
from reports.engine import region_level, split_codes
from reports.models import GapHouseholdFact
from tkpk.api import StableCursorPagination
from tkpk.exceptions import DomainError
from tkpk.scoping import Cap, scope_for

_YEAR = OpenApiParameter("year", OpenApiTypes.INT, description="Tahun (bawaan: tahun terbaru yang dihitung).")
_REGION = OpenApiParameter("region", OpenApiTypes.STR, description="Kode wilayah, mis. 33.24 atau 33.24.01.")


def _year(request: Request) -> int:
    value = request.query_params.get("year", "")
    if value and not value.isdigit():
        raise DomainError(
            _("Tahun %(value)s tidak valid: tulis empat angka, mis. 2026.") % {"value": value}, code="invalid_year"
        )
    return int(value) if value else selectors.default_year()


class GapSummaryView(APIView):
    """Figures per region at one level (the same rows as ``manage.py gap_summary``)."""

    required_capability = Cap.GAP_VIEW

    @extend_schema(
        parameters=[
            _YEAR,
            _REGION,
            OpenApiParameter("level", OpenApiTypes.STR, description="provinsi/kabupaten/kecamatan/desa"),
        ],
        responses=inline_serializer(
            "GapSummaryPage",
            {
                "year": serializers.IntegerField(),
                "computed_at": serializers.DateTimeField(allow_null=True),
                "sources": serializers.ListField(child=serializers.DictField()),
                "results": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request.user)
        allowed = scope.regions_with(Cap.API, Cap.GAP_VIEW)
        if not scope.is_superuser and not allowed:
            raise PermissionDenied(_("Peran Anda tidak membaca angka kesenjangan melalui API."))
        year = _year(request)
        root = "" if scope.is_superuser else min(allowed, key=len)
        region = selectors.normalise_region(request.query_params.get("region")) or root
        level = selectors.parse_level(request.query_params.get("level"), default=min(region_level(region) + 1, 4))
        if not scope.is_superuser and not any(region.startswith(code) for code in allowed):
            # Another region: nothing of it, not even when or from which snapshots it was computed.
            return Response({"year": year, "computed_at": None, "sources": [], "results": []})
        rows = selectors.summary_rows(user=request.user, region=region, level=level, year=year)
        fresh = selectors.freshness(year=year, region=region)
        return Response(
            {"year": year, "computed_at": fresh["computed_at"], "sources": fresh["sources"], "results": rows}
        )


class GapHouseholdSerializer(serializers.ModelSerializer[GapHouseholdFact]):
    household_id = serializers.IntegerField()
    head_name = serializers.CharField(source="household.head_name")
    address = serializers.CharField(source="household.address")
    rt = serializers.CharField(source="household.rt")
    rw = serializers.CharField(source="household.rw")
    desa_name = serializers.CharField(source="household.desa.name")
    received = serializers.SerializerMethodField()
    needs = serializers.SerializerMethodField()
    unmet_needs = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()

    class Meta:
        model = GapHouseholdFact
        fields = [
            "household_id", "head_name", "address", "rt", "rw", "desa_id", "desa_name", "kecamatan_code", "desil",
            "extreme_poor", "covered", "program_count", "overlap", "received", "needs", "unmet_needs", "reasons",
        ]  # fmt: skip

    def get_received(self, obj: GapHouseholdFact) -> list[str]:
        return split_codes(obj.kinds)

    def get_needs(self, obj: GapHouseholdFact) -> list[str]:
        return split_codes(obj.needs)

    def get_unmet_needs(self, obj: GapHouseholdFact) -> list[str]:
        return split_codes(obj.unmet_needs)

    def get_reasons(self, obj: GapHouseholdFact) -> list[str]:
        return obj.reason_codes


class GapHouseholdList(generics.ListAPIView[GapHouseholdFact]):
    """Households of the gap list, scoped like the registry (partners: their allocation only)."""

    required_capability = Cap.REGISTRY_VIEW
    serializer_class = GapHouseholdSerializer
    pagination_class = StableCursorPagination
    ordering = "id"
    filter_backends: list[Any] = []

    @extend_schema(
        parameters=[
            _YEAR,
            _REGION,
            OpenApiParameter("desil", OpenApiTypes.INT),
            OpenApiParameter("uncovered", OpenApiTypes.BOOL, description="true: belum menerima intervensi."),
            OpenApiParameter("need", OpenApiTypes.STR, description="Kode kebutuhan yang belum terpenuhi."),
            OpenApiParameter("overlap", OpenApiTypes.BOOL),
            OpenApiParameter("reason", OpenApiTypes.STR),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[GapHouseholdFact]:
        filters, problems = selectors.gap_list_filters_parse(self.request.query_params)
        if problems:
            raise DomainError(" ".join(problems), code="invalid_filter")
        return selectors.gap_households(user=self.request.user, filters=filters)
