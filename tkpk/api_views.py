from __future__ import annotations

import django_filters
from rest_framework import serializers, viewsets

from tkpk.api import ScopedViewSetMixin
from tkpk.models import Organization, Region


class RegionSerializer(serializers.ModelSerializer[Region]):
    dotted_code = serializers.CharField(read_only=True)

    class Meta:
        model = Region
        fields = ["code", "dotted_code", "name", "level", "kind", "parent", "postal_code"]


class RegionFilter(django_filters.FilterSet):
    parent = django_filters.CharFilter(field_name="parent_id")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Region
        fields = ["level", "parent", "name"]


class RegionViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet[Region]):
    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    ordering = "code"
    lookup_value_regex = r"[0-9.]+"

    def get_object(self) -> Region:
        from tkpk.identifiers import IdentifierError, normalize_region_code

        try:
            self.kwargs["pk"] = normalize_region_code(self.kwargs["pk"])
        except IdentifierError:
            pass
        return super().get_object()


class OrganizationSerializer(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = ["id", "kind", "name", "short_code", "sector", "region", "area", "is_active"]


class OrganizationViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet[Organization]):
    queryset = Organization.objects.prefetch_related("area")
    serializer_class = OrganizationSerializer
    filterset_fields = ["kind", "sector", "region", "is_active"]
    ordering = "pk"
