"""REST API of programs and interventions: input serializer -> service -> output serializer.

Scoping is the shared one (``for_user``): an object outside the user's scope is 404, a program the user may
not log into is refused as an unknown program. Leadership has no API access (``Cap.API``), so it never lists
named households here; its program figures are on the dashboards.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from households.models import Household, Person
from programs import selectors, services
from programs.models import EntryChannel, FundingSource, Intervention, InterventionStatus, Program
from programs.serializers import (
    BULK_MAX_ITEMS,
    BulkEnvelopeSerializer,
    BulkResultSerializer,
    ErrorSerializer,
    InterventionBulkRequestSerializer,
    InterventionCancelSerializer,
    InterventionCreatedSerializer,
    InterventionCreateSerializer,
    InterventionInputSerializer,
    InterventionOutputSerializer,
    ProgramInputSerializer,
    ProgramOutputSerializer,
)
from tkpk.api import ScopedViewSetMixin
from tkpk.exceptions import DomainError
from tkpk.identifiers import IdentifierError, clean_digits, normalize_region_code
from tkpk.models import Organization, Region
from tkpk.scoping import Cap, Role, scope_for

ERROR_400 = OpenApiResponse(ErrorSerializer, description=gettext_lazy("Ditolak: {message, code, extra}."))

# ---------------------------------------------------------------------------------------------- programs


class ProgramFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(field_name="year")
    organization = django_filters.NumberFilter(field_name="organization_id", label="Id organisasi pelaksana")
    cluster = django_filters.CharFilter(field_name="cluster__code", label="Kode klaster")
    strategy = django_filters.CharFilter(field_name="strategy__code", label="Kode strategi")
    assistance_kind = django_filters.CharFilter(field_name="assistance_kind__code", label="Kode jenis bantuan")
    funding_source = django_filters.ChoiceFilter(choices=FundingSource.choices)
    is_active = django_filters.BooleanFilter(field_name="is_active")
    q = django_filters.CharFilter(method="search", label="Kode atau nama program")

    class Meta:
        model = Program
        fields: list[str] = []

    def search(self, queryset: QuerySet[Program], name: str, value: str) -> QuerySet[Program]:
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value)) if value else queryset


@extend_schema_view(
    list=extend_schema(summary="Daftar program (dengan capaian: keluarga terjangkau dan nilai tersalurkan)"),
    retrieve=extend_schema(summary="Satu program"),
)
class ProgramViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Program]
):
    """Programs the user may see; created and changed by those who may manage programs (the secretariat for
    any organization of its region, an agency or partner for itself)."""

    queryset = Program.objects.all()
    serializer_class = ProgramOutputSerializer
    filterset_class = ProgramFilter
    parser_classes = [JSONParser]
    ordering = "pk"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Reading needs the program view capability, writing the manage capability (HasScope checks it).
        self.required_capability = Cap.PROGRAM_VIEW if request.method in SAFE_METHODS else Cap.PROGRAM_MANAGE
        super().initial(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Program]:
        return selectors.program_list(user=self.request.user).prefetch_related(
            Prefetch("target_regions", queryset=Region.objects.only("code"))
        )

    def _output(self, program: Program) -> dict[str, Any]:
        annotated = self.get_queryset().get(pk=program.pk)
        return ProgramOutputSerializer(annotated).data

    def _default_organization(self) -> Organization:
        scope = scope_for(self.request.user)
        grants = scope.grants_for(Role.SECRETARIAT, Role.OPD_OFFICER, Role.PARTNER)
        organization_ids = {g.organization_id for g in grants}
        if len(organization_ids) != 1:
            raise DomainError(
                _("Pilih organisasi pelaksana program."),
                code="organization_required",
                extra={"fields": {"organization": [_("Wajib diisi.")]}},
            )
        return Organization.objects.get(pk=organization_ids.pop())

    @extend_schema(
        summary="Buat program",
        request=ProgramInputSerializer,
        responses={201: ProgramOutputSerializer, 400: ERROR_400},
    )
    def create(self, request: Request) -> Response:
        organizations = services.organizations_for_programs(actor=request.user)
        serializer = ProgramInputSerializer(data=request.data, organizations=organizations)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = data.pop("organization", None) or self._default_organization()
        target_regions = data.pop("target_regions", [])
        program = services.program_create(
            actor=request.user, organization=organization, target_regions=target_regions, **data
        )
        return Response(self._output(program), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Ubah program (sebagian)",
        request=ProgramInputSerializer(partial=True),
        responses={200: ProgramOutputSerializer, 400: ERROR_400},
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        program = self.get_object()
        organizations = services.organizations_for_programs(actor=request.user)
        serializer = ProgramInputSerializer(data=request.data, partial=True, organizations=organizations)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        target_regions = data.pop("target_regions", None)
        services.program_update(actor=request.user, program=program, target_regions=target_regions, **data)
        return Response(self._output(program))


# ------------------------------------------------------------------------------------------ interventions


class InterventionFilter(django_filters.FilterSet):
    program = django_filters.NumberFilter(field_name="program_id", label="Id program")
    household = django_filters.NumberFilter(field_name="household_id", label="Id keluarga")
    desa = django_filters.CharFilter(method="in_region", label="Kode wilayah (kecamatan/desa, boleh bertitik)")
    delivered_on = django_filters.DateFromToRangeFilter(label="Tanggal penyaluran (_after/_before)")
    status = django_filters.ChoiceFilter(choices=InterventionStatus.choices)
    year = django_filters.NumberFilter(field_name="period_year", label="Tahun penyaluran")
    channel = django_filters.ChoiceFilter(choices=EntryChannel.choices)

    class Meta:
        model = Intervention
        fields: list[str] = []

    def in_region(self, queryset: QuerySet[Intervention], name: str, value: str) -> QuerySet[Intervention]:
        """A region code prefix, read as the stored code column of its level (an indexed equality)."""
        try:
            code = normalize_region_code(value)
        except IdentifierError:
            return queryset.none()
        column = {2: "province_code", 4: "kabupaten_code", 6: "kecamatan_code", 10: "desa_id"}[len(code)]
        return queryset.filter(**{column: code})


def _refused(exc: DomainError) -> dict[str, Any]:
    return {"message": exc.message, "code": exc.code, "extra": exc.extra}


def _resolve_items(*, actor: Any, items: list[dict[str, Any]]) -> list[dict[str, Any] | DomainError]:
    """Turn validated items (ids, ID Keluarga, NIK) into service arguments, with one query each for the
    programs, the households and the members of the whole batch. An item that cannot be resolved gets its
    DomainError instead."""
    program_ids = {item["program"] for item in items}
    programs = {
        p.pk: p
        for p in services.programs_for_logging(actor=actor)
        .filter(pk__in=program_ids)
        .prefetch_related(Prefetch("target_regions", queryset=Region.objects.only("code")))
    }
    refs = selectors.households_by_reference(
        user=actor,
        ids={item["household"] for item in items if item.get("household")},
        id_keluarga={item["id_keluarga"].strip() for item in items if item.get("id_keluarga")},
        niks={clean_digits(item["nik"]) for item in items if item.get("nik")},
    )
    person_ids = {item["person"] for item in items if item.get("person")}
    persons = Person.objects.for_user(actor).in_bulk(person_ids) if person_ids else {}

    resolved: list[dict[str, Any] | DomainError] = []
    for item in items:
        try:
            resolved.append(_resolve_item(item, programs=programs, refs=refs, persons=persons))
        except DomainError as exc:
            resolved.append(exc)
    return resolved


def _one_household(matches: list[Household], *, not_found: str) -> Household:
    if not matches:
        raise DomainError(not_found, code="household_not_found", extra={"field": "household"})
    if len(matches) > 1:
        raise DomainError(
            _("Lebih dari satu keluarga cocok; sebutkan keluarga dengan id-nya."),
            code="household_ambiguous",
            extra={"field": "household", "household_ids": sorted(h.pk for h in matches)},
        )
    return matches[0]


def _resolve_item(
    item: dict[str, Any],
    *,
    programs: dict[int, Program],
    refs: selectors.HouseholdReferences,
    persons: dict[int, Person],
) -> dict[str, Any]:
    program = programs.get(item["program"])
    if program is None:
        raise DomainError(
            _("Program #%(id)s tidak ditemukan atau Anda tidak dapat mencatat penyaluran untuk program ini.")
            % {"id": item["program"]},
            code="program_not_found",
            extra={"field": "program"},
        )
    if item.get("household"):
        found = refs.by_id.get(item["household"])
        household = _one_household(
            [found] if found else [],
            not_found=_("Keluarga #%(id)s tidak ditemukan di wilayah Anda.") % {"id": item["household"]},
        )
    elif item.get("id_keluarga"):
        key = item["id_keluarga"].strip()
        household = _one_household(
            refs.by_id_keluarga.get(key, []),
            not_found=_("Tidak ada keluarga dengan ID Keluarga %(id)s di wilayah Anda.") % {"id": key},
        )
    else:
        # The NIK is never echoed back.
        household = _one_household(
            refs.by_nik.get(clean_digits(item["nik"]), []),
            not_found=_("Tidak ada keluarga dengan NIK anggota tersebut di wilayah Anda."),
        )
    arguments: dict[str, Any] = {"program": program, "household": household, "delivered_on": item["delivered_on"]}
    if item.get("person"):
        person = persons.get(item["person"])
        if person is None:
            raise DomainError(
                _("Anggota keluarga #%(id)s tidak ditemukan.") % {"id": item["person"]},
                code="person_not_found",
                extra={"field": "person"},
            )
        arguments["person"] = person
    for name in ("value", "quantity", "status", "note"):
        if item.get(name) is not None:
            arguments[name] = item[name]
    return arguments


@extend_schema_view(
    list=extend_schema(summary="Daftar intervensi (penyaluran) yang dapat Anda lihat"),
    retrieve=extend_schema(summary="Satu intervensi"),
)
class InterventionViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Intervention]
):
    """Deliveries of programs to households: the secretariat sees its region's, an agency or partner its own
    organization's. Households appear by id, head's name and desa; a NIK never appears."""

    queryset = Intervention.objects.all()
    serializer_class = InterventionOutputSerializer
    filterset_class = InterventionFilter
    required_capability = Cap.INTERVENTION_LOG
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    ordering = "-pk"

    def get_queryset(self) -> QuerySet[Intervention]:
        return super().get_queryset().select_related("program", "household", "household__desa")

    @extend_schema(
        summary="Catat satu penyaluran",
        description=(
            "Keluarga disebut dengan tepat satu dari `household` (id), `id_keluarga` (ID Keluarga di sumber, "
            "mis. P3KE) atau `nik` (NIK salah satu anggota). Kirim sebagai multipart/form-data untuk "
            "melampirkan `evidence`. Duplikat program sekali-setahun ditolak: 400 "
            '`{"code": "duplicate", "extra": {"existing_id": ...}}`.'
        ),
        request={
            "application/json": InterventionInputSerializer,
            "multipart/form-data": InterventionCreateSerializer,
        },
        responses={201: InterventionCreatedSerializer, 400: ERROR_400},
    )
    def create(self, request: Request) -> Response:
        serializer = InterventionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        evidence = data.pop("evidence", None)
        resolved = _resolve_items(actor=request.user, items=[data])[0]
        if isinstance(resolved, DomainError):
            raise resolved
        logged = services.intervention_create(
            actor=request.user, channel=EntryChannel.API, evidence=evidence, **resolved
        )
        intervention = self.get_queryset().get(pk=logged.intervention.pk)
        body = InterventionCreatedSerializer(intervention, context={"warnings": logged.warnings}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Catat banyak penyaluran sekaligus",
        description=(
            f'`{{"items": [...]}}`, paling banyak {BULK_MAX_ITEMS} baris (lebih dari itu: 400 '
            "`too_many_items`; gunakan unggah spreadsheet). Setiap baris diproses sendiri: baris yang ditolak "
            "tidak menghentikan baris lain. Hasil per baris: `index`, `id` (null jika ditolak), `warnings`, "
            "`error` (`{message, code, extra}` atau null). Status 201 jika semua baris tercatat, 200 jika ada "
            "yang ditolak (lihat `created`/`failed`). Setiap baris tercatat sendiri: mengirim ulang permintaan yang "
            "terputus aman untuk program sekali-setahun (baris yang sudah tercatat ditolak sebagai `duplicate` "
            "dengan `existing_id`). Berkas bukti hanya lewat pencatatan satu per satu."
        ),
        request=InterventionBulkRequestSerializer,
        responses={
            201: OpenApiResponse(BulkResultSerializer, description="Semua baris tercatat."),
            200: OpenApiResponse(BulkResultSerializer, description="Sebagian atau semua baris ditolak."),
            400: ERROR_400,
        },
    )
    @action(detail=False, methods=["post"], url_path="bulk", parser_classes=[JSONParser])
    def bulk(self, request: Request) -> Response:
        raw = request.data.get("items") if isinstance(request.data, dict) else None
        if isinstance(raw, list) and len(raw) > BULK_MAX_ITEMS:
            raise DomainError(
                _(
                    "Terlalu banyak baris (%(received)s); paling banyak %(max)s per permintaan. "
                    "Untuk data sebanyak ini gunakan unggah spreadsheet intervensi."
                )
                % {"received": len(raw), "max": BULK_MAX_ITEMS},
                code="too_many_items",
                extra={"max_items": BULK_MAX_ITEMS, "received": len(raw)},
            )
        envelope = BulkEnvelopeSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        items: list[Any] = envelope.validated_data["items"]

        results: list[dict[str, Any]] = [
            {"index": index, "id": None, "warnings": [], "error": None} for index in range(len(items))
        ]
        shaped: list[tuple[int, dict[str, Any]]] = []
        for index, item in enumerate(items):
            item_serializer = InterventionInputSerializer(data=item)
            if item_serializer.is_valid():
                shaped.append((index, dict(item_serializer.validated_data)))
            else:
                results[index]["error"] = {
                    "message": _("Data tidak valid."),
                    "code": "invalid",
                    "extra": {"fields": item_serializer.errors},
                }
        ready: list[tuple[int, dict[str, Any]]] = []
        resolved = _resolve_items(actor=request.user, items=[data for _index, data in shaped])
        for (index, _data), arguments in zip(shaped, resolved, strict=True):
            if isinstance(arguments, DomainError):
                results[index]["error"] = _refused(arguments)
            else:
                ready.append((index, arguments))
        outcomes = services.intervention_create_many(
            actor=request.user, items=[arguments for _index, arguments in ready], channel=EntryChannel.API
        )
        for (index, _arguments), outcome in zip(ready, outcomes, strict=True):
            if outcome.error is not None:
                results[index]["error"] = _refused(outcome.error)
            else:
                assert outcome.intervention is not None
                results[index]["id"] = outcome.intervention.pk
                results[index]["warnings"] = outcome.warnings
        created = sum(1 for r in results if r["id"] is not None)
        body = BulkResultSerializer({"created": created, "failed": len(items) - created, "results": results}).data
        return Response(body, status=status.HTTP_201_CREATED if created == len(items) else status.HTTP_200_OK)

    @extend_schema(
        summary="Batalkan penyaluran (dengan alasan)",
        request=InterventionCancelSerializer,
        responses={200: InterventionOutputSerializer, 400: ERROR_400},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        intervention = self.get_object()
        serializer = InterventionCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.intervention_cancel(
            actor=request.user, intervention=intervention, reason=serializer.validated_data["reason"]
        )
        return Response(InterventionOutputSerializer(intervention).data)
