from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from rest_framework import serializers, viewsets

from households.models import Household, Person
from households.selectors import HouseholdFilters, household_search
from tkpk.api import ScopedViewSetMixin


class PersonSerializer(serializers.ModelSerializer[Person]):
    # The API never returns a full NIK: reveals are a logged, one-record action in the UI.
    nik_masked = serializers.CharField(read_only=True)

    class Meta:
        model = Person
        fields = [
            "id", "name", "nik_masked", "nik_status", "sex", "relationship", "birth_date", "marital_status",
            "occupation", "work_status", "education", "disability", "status",
        ]  # fmt: skip


class HouseholdSerializer(serializers.ModelSerializer[Household]):
    no_kk_masked = serializers.CharField(read_only=True)
    members = PersonSerializer(many=True, read_only=True)

    class Meta:
        model = Household
        exclude = ["no_kk", "is_demo", "status_verified_by", "merged_into"]


class HouseholdFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(method="noop", label="Nama kepala/anggota")
    nik = django_filters.CharFilter(method="noop", label="NIK lengkap")
    id_keluarga = django_filters.CharFilter(method="noop", label="ID Keluarga di sumber")
    region = django_filters.CharFilter(method="noop", label="Kode wilayah (kecamatan/desa)")
    desil = django_filters.NumberFilter(method="noop")
    status = django_filters.CharFilter(method="noop")

    class Meta:
        model = Household
        fields: list[str] = []

    def noop(self, queryset: QuerySet[Household], name: str, value: Any) -> QuerySet[Household]:
        # Filtering is done once, by the selector, in ``HouseholdViewSet.get_queryset``.
        return queryset


class HouseholdViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet[Household]):
    queryset = Household.objects.all()
    serializer_class = HouseholdSerializer
    filterset_class = HouseholdFilter
    ordering = "pk"

    def get_queryset(self) -> QuerySet[Household]:
        params = self.request.query_params
        desil = params.get("desil")
        filters = HouseholdFilters(
            name=params.get("name", ""),
            nik=params.get("nik", ""),
            id_keluarga=params.get("id_keluarga", ""),
            region=params.get("region", ""),
            desil=int(desil) if desil and desil.isdigit() else None,
            status=params.get("status", ""),
        )
        return household_search(user=self.request.user, filters=filters).prefetch_related(
            Prefetch("members", queryset=Person.objects.order_by("id"))
        )
