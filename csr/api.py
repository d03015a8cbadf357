"""REST API of the CSR portal under ``/api/v1/csr/``: cycles, allocations, proposals with their workflow steps
as POST actions, joint field verification, overlaps, agreements, deliveries and refusals.

Input serializer -> one service or selector -> output serializer. Rows come from ``for_user`` (a company sees
only its own organization's rows; the secretariat its region's), so another company's allocation, proposal,
agreement or refusal is 404. Reading needs ``Cap.CSR_MANAGE`` or ``Cap.CSR_PARTICIPATE`` (plus ``Cap.API``);
each write needs the capability of the role that takes it (403 otherwise); business rules refuse with 400
``{message, code, extra}`` (``tkpk.api.exception_handler``).

Identifiers: every role gets the head's NIK masked here, the secretariat included (full NIKs are revealed
one record at a time, logged, in the registry pages, never through the API). By-name lists (allocations,
targets, overlaps) and the agreement PDF are logged with ``personal_data_access_record``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, OuterRef, QuerySet, Subquery
from django.http import FileResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from csr import selectors, services
from csr.models import (
    Agreement,
    Allocation,
    AllocationStatus,
    CsrCycle,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    Refusal,
    VerificationResult,
)
from csr.serializers import (
    AcknowledgeSerializer,
    AdditionalTargetSerializer,
    AgreeSerializer,
    AllocationCreateSerializer,
    AllocationOutputSerializer,
    AllocationResultSerializer,
    CycleInputSerializer,
    CycleOutputSerializer,
    DeliveryInputSerializer,
    NoteRequiredSerializer,
    NoteSerializer,
    OverlapSerializer,
    ProposalDetailSerializer,
    ProposalInputSerializer,
    ProposalOutputSerializer,
    ReasonSerializer,
    RefusalInputSerializer,
    RefusalOutputSerializer,
    ReportSerializer,
    TargetOutputSerializer,
    TargetVerifySerializer,
    WithdrawSerializer,
)
from households.choices import Relationship
from households.models import Household, Person
from households.views import client_ip
from programs.models import EntryChannel, Intervention
from programs.serializers import ErrorSerializer, InterventionOutputSerializer
from tkpk.api import ScopedViewSetMixin
from tkpk.exceptions import DomainError
from tkpk.identifiers import IdentifierError, normalize_region_code
from tkpk.models import AccessAction, Organization, Region
from tkpk.scoping import Cap, Role, scope_for
from tkpk.services import personal_data_access_record

ERROR_400 = OpenApiResponse(ErrorSerializer, description=gettext_lazy("Ditolak: {message, code, extra}."))
ERROR_403 = OpenApiResponse(description=gettext_lazy("Peran Anda tidak dapat melakukan tindakan ini."))
PDF_200 = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description=gettext_lazy("Berkas PDF."))}

_M = TypeVar("_M", bound=Model)

READ = (Cap.CSR_MANAGE, Cap.CSR_PARTICIPATE)
MANAGE = (Cap.CSR_MANAGE,)
PARTICIPATE = (Cap.CSR_PARTICIPATE,)

# ------------------------------------------------------------------------------------------------- plumbing


class CsrAccess(permissions.BasePermission):
    """Authenticated, with API access, and one of the capabilities the view asks for this action."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        scope = scope_for(request.user)
        needed: tuple[str, ...] = view.capabilities()
        if scope.can(Cap.API) and any(scope.can(c) for c in needed):
            return True
        if needed == MANAGE:
            raise PermissionDenied(_("Hanya sekretariat TKPK yang dapat melakukan tindakan ini."))
        if needed == PARTICIPATE:
            raise PermissionDenied(_("Hanya pengguna mitra (perusahaan/lembaga) yang dapat melakukan tindakan ini."))
        raise PermissionDenied(_("Peran Anda tidak memiliki akses ke portal CSR melalui API."))


class CsrViewSet(ScopedViewSetMixin, viewsets.GenericViewSet[_M]):  # type: ignore[misc]
    # Capabilities per action (reads by default) and the one 403 of the services: a DomainError with code
    # ``forbidden`` (acting for another organization or region) keeps the error shape but answers 403.
    # (Comments, not a docstring: the schema would show it as the description of every operation.)

    permission_classes = [CsrAccess]
    parser_classes = [JSONParser]
    ordering = "pk"
    action_capabilities: dict[str, tuple[str, ...]] = {}

    def capabilities(self) -> tuple[str, ...]:
        return self.action_capabilities.get(self.action or "", READ)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DomainError) and exc.code == "forbidden":
            return Response(
                {"message": exc.message, "code": exc.code, "extra": exc.extra}, status=status.HTTP_403_FORBIDDEN
            )
        return super().handle_exception(exc)

    def _cycle(self, pk: int) -> CsrCycle:
        cycle = selectors.cycles_for(user=self.request.user).filter(pk=pk).first()
        if cycle is None:
            raise DomainError(_("Siklus CSR tidak ditemukan."), code="cycle_not_found", extra={"field": "cycle"})
        return cycle

    def _partner_organization(self, requested: int | None) -> Organization:
        """The partner organization the user acts for: the one asked for (its own only), else its only one."""
        user = self.request.user
        if scope_for(user).is_superuser and requested is not None:
            found = Organization.objects.for_user(user).filter(pk=requested).first()
            if found is not None:
                return found
        organizations = selectors.partner_organizations(user=user)
        if requested is not None:
            match = next((o for o in organizations if o.pk == requested), None)
            if match is None:
                raise DomainError(_("Anda hanya dapat bertindak untuk organisasi Anda sendiri."), code="forbidden")
            return match
        if len(organizations) != 1:
            raise DomainError(
                _("Pilih organisasi mitra."),
                code="organization_required",
                extra={"fields": {"organization": [_("Wajib diisi.")]}},
            )
        return organizations[0]

    def _log(self, *, action: str, object_type: str, household_ids: list[int], region_code: str) -> None:
        if household_ids:
            personal_data_access_record(
                user=self.request.user,
                action=action,  # type: ignore[arg-type]
                object_type=object_type,
                object_ids=household_ids,
                region_code=region_code,
                detail=f"{self.request.path} {self.request.query_params.urlencode()}".strip()[:300],
                ip_address=client_ip(self.request),
            )


def _int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise DomainError(_("Parameter %(name)s harus berupa angka (id).") % {"name": name}, code="invalid_filter")
    return int(value)


def _region_column(value: str, prefix: str = "") -> dict[str, str]:
    """``{"<prefix>kecamatan_code": ...}`` / ``desa_id`` for a kecamatan or desa code (dotted or plain)."""
    try:
        code = normalize_region_code(value)
    except IdentifierError as exc:
        raise DomainError(_("Kode wilayah %(value)s tidak valid.") % {"value": value}, code="invalid_filter") from exc
    column = {2: "province_code", 4: "kabupaten_code", 6: "kecamatan_code", 10: "desa_id"}[len(code)]
    return {f"{prefix}{column}": code}


def _pdf(file: Any, filename: str) -> FileResponse:
    return FileResponse(file.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf")


# ------------------------------------------------------------------------------------------------- cycles


@extend_schema_view(
    list=extend_schema(
        summary="Daftar siklus CSR",
        description="Siklus CSR wilayah Anda (mitra: wilayah TKPK tempat mitra terdaftar), terbaru dahulu.",
        parameters=[OpenApiParameter("year", OpenApiTypes.INT, description="Tahun siklus.")],
    ),
    retrieve=extend_schema(
        summary="Satu siklus CSR",
        description="Bagi mitra: batas pengajuan yang berlaku baginya dan apakah pengajuan masih dibuka.",
    ),
)
class CycleViewSet(CsrViewSet[CsrCycle], mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = CsrCycle.objects.all()
    serializer_class = CycleOutputSerializer
    filter_backends: list[Any] = []
    ordering = "-pk"
    action_capabilities = {"create": MANAGE, "partial_update": MANAGE}

    def get_queryset(self) -> QuerySet[CsrCycle]:
        rows = selectors.cycles_for(user=self.request.user)
        year = _int_param(self.request, "year") if self.action == "list" else None
        return rows.filter(year=year) if year is not None else rows

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        scope = scope_for(self.request.user)
        partners = {g.organization_id for g in scope.grants_for(Role.PARTNER)}
        if not scope.grants_for(Role.SECRETARIAT) and len(partners) == 1:
            context["partner_organization_id"] = partners.pop()
        return context

    def _output(self, cycle: CsrCycle) -> dict[str, Any]:
        return CycleOutputSerializer(self.get_queryset().get(pk=cycle.pk), context=self.get_serializer_context()).data

    @extend_schema(
        summary="Buat siklus CSR (sekretariat)",
        description=(
            "Wilayah bawaan adalah wilayah sekretariat Anda. Sektor wajib bawaan: perkebunan dan pertambangan. "
            "Nama siklus unik per wilayah dan tahun."
        ),
        request=CycleInputSerializer,
        responses={201: CycleOutputSerializer, 400: ERROR_400, 403: ERROR_403},
    )
    def create(self, request: Request, **kwargs: Any) -> Response:
        serializer = CycleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        region: Region | None = data.pop("region", None)
        if region is None:
            codes = {g.region_code for g in scope_for(request.user).grants_for(Role.SECRETARIAT)}
            if len(codes) != 1:
                raise DomainError(
                    _("Pilih wilayah TKPK siklus ini."),
                    code="region_required",
                    extra={"fields": {"region": [_("Wajib diisi.")]}},
                )
            region = Region.objects.get(code=codes.pop())
        cycle = services.cycle_create(actor=request.user, region=region, **data)
        return Response(self._output(cycle), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Ubah siklus CSR (sebagian; sekretariat)",
        description="Termasuk status siklus (dibuka, ditutup, pelaksanaan, dilaporkan). Wilayah tidak dapat diubah.",
        request=CycleInputSerializer(partial=True),
        responses={200: CycleOutputSerializer, 400: ERROR_400, 403: ERROR_403},
    )
    def partial_update(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        cycle = self.get_object()
        serializer = CycleInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.pop("region", None) is not None:
            raise DomainError(_("Wilayah siklus tidak dapat diubah."), code="region_fixed")
        services.cycle_update(actor=request.user, cycle=cycle, **data)
        return Response(self._output(cycle))


# --------------------------------------------------------------------------------------------- allocation

_ALLOCATION_PARAMS = [
    OpenApiParameter("cycle", OpenApiTypes.INT, description="Id siklus (bawaan: siklus berjalan)."),
    OpenApiParameter("organization", OpenApiTypes.INT, description="Id organisasi mitra (sekretariat)."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=[*AllocationStatus.values, "all"], description="Bawaan: active."),
    OpenApiParameter("desa", OpenApiTypes.STR, description="Kode kecamatan atau desa/kelurahan (boleh bertitik)."),
]


@extend_schema_view(
    list=extend_schema(
        summary="Daftar sasaran by-name-by-address (alokasi)",
        description=(
            "Mitra hanya melihat alokasinya sendiri; sekretariat seluruh alokasi wilayahnya. NIK kepala keluarga "
            "selalu disamarkan. Halaman memakai kursor (`next`). Setiap halaman yang dibaca tercatat di log akses "
            "data pribadi."
        ),
        parameters=_ALLOCATION_PARAMS,
    ),
    retrieve=extend_schema(summary="Satu alokasi", description="NIK kepala keluarga selalu disamarkan."),
)
class AllocationViewSet(CsrViewSet[Allocation], mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Allocation.objects.all()
    serializer_class = AllocationOutputSerializer
    filter_backends: list[Any] = []
    action_capabilities = {"create": MANAGE, "release": MANAGE}
    _list_cycle: CsrCycle | None = None

    def get_queryset(self) -> QuerySet[Allocation]:
        if self.action != "list":
            return Allocation.objects.for_user(self.request.user)
        params = self.request.query_params
        cycle_id = _int_param(self.request, "cycle")
        cycle = self._cycle(cycle_id) if cycle_id else selectors.current_cycle(user=self.request.user)
        self._list_cycle = cycle
        if cycle is None:
            return Allocation.objects.none()
        wanted = params.get("status", "").strip() or AllocationStatus.ACTIVE
        if wanted not in (*AllocationStatus.values, "all"):
            raise DomainError(
                _("Status alokasi %(value)s tidak dikenal (active, released atau all).") % {"value": wanted},
                code="invalid_filter",
            )
        rows = selectors.allocations(
            user=self.request.user,
            cycle=cycle,
            organization_id=_int_param(self.request, "organization"),
            include_released=wanted != AllocationStatus.ACTIVE,
        )
        if wanted == AllocationStatus.RELEASED:
            rows = rows.filter(status=AllocationStatus.RELEASED)
        desa = params.get("desa", "").strip()
        if desa:
            rows = rows.filter(**_region_column(desa, "household__"))
        return rows

    def _rendered(self, allocation: Allocation) -> dict[str, Any]:
        """One allocation as the list shows it (the selector adds the head's NIK, masked on output)."""
        if allocation.cycle_id is not None:
            assert allocation.cycle is not None
            allocation = (
                selectors.allocations(user=self.request.user, cycle=allocation.cycle, include_released=True)
                .filter(pk=allocation.pk)
                .first()
                or allocation
            )
        return AllocationOutputSerializer(allocation).data

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.get_queryset()
        page = self.paginate_queryset(queryset)
        assert page is not None
        cycle = self._list_cycle
        needs = (
            selectors.needs_by_household(year=cycle.year, household_ids=[a.household_id for a in page])
            if cycle is not None and page
            else {}
        )
        if cycle is not None:
            self._log(
                action=AccessAction.VIEW_HOUSEHOLD,
                object_type="csr_allocation",
                household_ids=[a.household_id for a in page],
                region_code=cycle.region_id,
            )
        data = AllocationOutputSerializer(page, many=True, context={"needs": needs}).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._rendered(self.get_object()))

    @extend_schema(
        summary="Alokasikan keluarga sasaran ke mitra (sekretariat, sekaligus)",
        description=(
            "Keluarga di luar wilayah kerja mitra atau wilayah Anda tidak dialokasikan; keluarga yang sudah "
            "dialokasikan ke mitra lain untuk kebutuhan yang sama dilewati kecuali `override_reason` diisi "
            "(alasannya dicatat). Jawaban: jumlah per hasil. 201 bila ada alokasi baru, 200 bila tidak ada."
        ),
        request=AllocationCreateSerializer,
        responses={
            201: OpenApiResponse(AllocationResultSerializer, description="Ada alokasi baru."),
            200: OpenApiResponse(AllocationResultSerializer, description="Tidak ada alokasi baru."),
            400: ERROR_400,
            403: ERROR_403,
        },
    )
    def create(self, request: Request, **kwargs: Any) -> Response:
        serializer = AllocationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organization = Organization.objects.for_user(request.user).filter(pk=data["organization"]).first()
        if organization is None:
            raise DomainError(
                _("Mitra tidak ditemukan di wilayah Anda."),
                code="organization_not_found",
                extra={"field": "organization"},
            )
        result = services.allocations_create(
            actor=request.user,
            cycle=self._cycle(data["cycle"]),
            organization=organization,
            assistance_kind=data["assistance_kind"],
            household_ids=data["household_ids"],
            override_reason=data.get("override_reason", ""),
            note=data.get("note", ""),
        )
        body = AllocationResultSerializer(result).data
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(
        summary="Kembalikan alokasi ke daftar sasaran (sekretariat, dengan alasan)",
        description="Keluarga kembali dapat dialokasikan ke mitra lain untuk kebutuhan ini.",
        request=ReasonSerializer,
        responses={200: AllocationOutputSerializer, 400: ERROR_400, 403: ERROR_403},
    )
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        allocation = self.get_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.allocation_release(
            actor=request.user, allocation=allocation, reason=serializer.validated_data["reason"]
        )
        return Response(self._rendered(allocation))


# ---------------------------------------------------------------------------------------------- proposals

# Method name -> workflow action (``return`` is a Python keyword).
TRANSITION_OF = {
    "submit": "submit",
    "withdraw": "withdraw",
    "return_": "return",
    "verify": "verify",
    "agree": "agree",
    "implement": "implement",
    "report": "report",
}
_TARGET_ID = OpenApiParameter("target_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id sasaran.")


def _transition_schema(summary: str, description: str, request: Any) -> Any:
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={200: ProposalDetailSerializer, 400: ERROR_400, 403: ERROR_403},
    )


@extend_schema_view(
    list=extend_schema(
        summary="Daftar usulan CSR",
        description="Mitra: usulan organisasinya sendiri; sekretariat: usulan siklus wilayahnya.",
        parameters=[
            OpenApiParameter("cycle", OpenApiTypes.INT, description="Id siklus."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=ProposalStatus.values),
            OpenApiParameter("organization", OpenApiTypes.INT, description="Id organisasi mitra."),
        ],
    ),
    retrieve=extend_schema(
        summary="Satu usulan CSR dengan riwayat statusnya",
        description="`available_actions`: langkah alur kerja yang dapat Anda lakukan sekarang.",
    ),
)
class ProposalViewSet(CsrViewSet[Proposal], mixins.ListModelMixin, mixins.RetrieveModelMixin):
    # Proposals and their workflow: draft → submitted → verified → agreed → implemented → reported, plus
    # returned for revision and withdrawn. Each step is a POST action; ``available_actions`` says which ones
    # the user may take now. (Comments, not a docstring: the schema's descriptions are in Bahasa.)

    queryset = Proposal.objects.all()
    serializer_class = ProposalOutputSerializer
    filter_backends: list[Any] = []
    ordering = "-pk"
    action_capabilities = {
        "create": PARTICIPATE,
        "partial_update": PARTICIPATE,
        "verify_target": MANAGE,
        "overlaps": MANAGE,
    }

    def capabilities(self) -> tuple[str, ...]:
        workflow_action = TRANSITION_OF.get(self.action or "")
        if workflow_action is not None:
            who = services.TRANSITIONS[workflow_action][2]
            return MANAGE if who == services.SECRETARIAT else PARTICIPATE
        if self.action == "deliveries" and self.request.method == "POST":
            return PARTICIPATE
        return super().capabilities()

    def get_queryset(self) -> QuerySet[Proposal]:
        rows = selectors.proposals_for(user=self.request.user).select_related("agreement")
        if self.action == "list":
            cycle = _int_param(self.request, "cycle")
            organization = _int_param(self.request, "organization")
            wanted = self.request.query_params.get("status", "").strip()
            if wanted and wanted not in ProposalStatus.values:
                raise DomainError(
                    _("Status usulan %(value)s tidak dikenal.") % {"value": wanted}, code="invalid_filter"
                )
            if cycle is not None:
                rows = rows.filter(cycle_id=cycle)
            if organization is not None:
                rows = rows.filter(organization_id=organization)
            if wanted:
                rows = rows.filter(status=wanted)
        return rows

    def get_serializer_class(self) -> type[ProposalOutputSerializer]:
        return ProposalDetailSerializer if self.action == "retrieve" else ProposalOutputSerializer

    def _output(self, proposal: Proposal) -> dict[str, Any]:
        fresh = self.get_queryset().prefetch_related("transitions").get(pk=proposal.pk)
        return ProposalDetailSerializer(fresh, context=self.get_serializer_context()).data

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._output(self.get_object()))

    @staticmethod
    def _targets_arguments(data: dict[str, Any]) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        if "household_ids" in data:
            arguments["household_ids"] = data.pop("household_ids")
        if "additional" in data:
            shape = AdditionalTargetSerializer()
            arguments["additional"] = [shape.to_target(item) for item in data.pop("additional")]
        return arguments

    @extend_schema(
        summary="Buat usulan CSR (mitra; berstatus draf)",
        description=(
            "Sasaran: `household_ids` (bagian dari alokasi Anda pada siklus ini) dan/atau `additional` "
            "(keluarga lain dengan alasan: id keluarga registri, atau nama, alamat dan kode desa)."
        ),
        request=ProposalInputSerializer,
        responses={201: ProposalDetailSerializer, 400: ERROR_400, 403: ERROR_403},
    )
    def create(self, request: Request, **kwargs: Any) -> Response:
        serializer = ProposalInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = self._partner_organization(data.pop("organization", None))
        cycle = self._cycle(data.pop("cycle"))
        targets = self._targets_arguments(data)
        proposal = services.proposal_create(
            actor=request.user, organization=organization, cycle=cycle, **targets, **data
        )
        return Response(self._output(proposal), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Ubah usulan CSR (sebagian; mitra, hanya draf atau dikembalikan)",
        description="`household_ids`/`additional` yang dikirim menggantikan sasaran yang ada.",
        request=ProposalInputSerializer(partial=True),
        responses={200: ProposalDetailSerializer, 400: ERROR_400, 403: ERROR_403},
    )
    def partial_update(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        proposal = self.get_object()
        serializer = ProposalInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.pop("cycle", None) not in (None, proposal.cycle_id) or data.pop("organization", None) not in (
            None,
            proposal.organization_id,
        ):
            raise DomainError(_("Siklus dan mitra usulan tidak dapat diubah."), code="fixed_fields")
        targets = self._targets_arguments(data)
        services.proposal_update(actor=request.user, proposal=proposal, **targets, **data)
        return Response(self._output(proposal))

    # ------------------------------------------------------------------------------------ workflow steps

    def _transition(self, request: Request, serializer_class: Any) -> Response:
        proposal = self.get_object()
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        details = dict(serializer.validated_data)
        note = details.pop("note", "") or ""
        services.proposal_transition(
            actor=request.user, proposal=proposal, action=TRANSITION_OF[self.action or ""], note=note, **details
        )
        return Response(self._output(proposal))

    @_transition_schema(
        "Ajukan usulan (mitra)",
        "Dari draf atau dikembalikan. Ditolak setelah batas pengajuan (400 `deadline_passed`) kecuali "
        "sekretariat membuka kembali pengajuan untuk mitra ini; perlu setidaknya satu sasaran.",
        NoteSerializer,
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        return self._transition(request, NoteSerializer)

    @_transition_schema(
        "Tarik usulan (mitra)",
        "Dari draf, diajukan, dikembalikan atau terverifikasi; alasan wajib bila usulan sudah diajukan.",
        WithdrawSerializer,
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        return self._transition(request, WithdrawSerializer)

    @_transition_schema(
        "Kembalikan usulan untuk perbaikan (sekretariat)",
        "Dari diajukan atau terverifikasi; catatan perbaikan wajib.",
        NoteRequiredSerializer,
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        return self._transition(request, NoteRequiredSerializer)

    @_transition_schema(
        "Nyatakan usulan terverifikasi (sekretariat)",
        "Setelah setiap sasaran diverifikasi di lapangan (`/targets/{target_id}/verify/`) dan ada yang layak.",
        NoteSerializer,
    )
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        return self._transition(request, NoteSerializer)

    @_transition_schema(
        "Sepakati usulan dengan PKS (sekretariat)",
        "Mencatat perjanjian kerja sama (nomor, tanggal, penandatangan), membuat PDF-nya dengan daftar sasaran "
        "layak (NIK disamarkan) dan program pelaksanaan untuk pelaporan penyaluran.",
        AgreeSerializer,
    )
    @action(detail=True, methods=["post"])
    def agree(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        return self._transition(request, AgreeSerializer)

    @_transition_schema(
        "Nyatakan program terlaksana (mitra)",
        "Dari disepakati, setelah setidaknya satu penyaluran dilaporkan.",
        NoteSerializer,
    )
    @action(detail=True, methods=["post"])
    def implement(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        return self._transition(request, NoteSerializer)

    @_transition_schema("Kirim laporan akhir (mitra)", "Dari terlaksana; laporan akhir wajib.", ReportSerializer)
    @action(detail=True, methods=["post"])
    def report(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        return self._transition(request, ReportSerializer)

    # ------------------------------------------------------------------------ targets and verification

    def _targets(self, proposal: Proposal) -> QuerySet[ProposalTarget]:
        head_nik = Person.objects.filter(household=OuterRef("household_id"), relationship=Relationship.HEAD)
        return (
            ProposalTarget.objects.for_user(self.request.user)
            .filter(proposal=proposal)
            .annotate(head_nik=Subquery(head_nik.order_by("id").values("nik")[:1]))
            .select_related("household", "household__desa", "proposed_desa")
        )

    @extend_schema(
        summary="Sasaran usulan dan hasil verifikasi lapangannya",
        description="NIK kepala keluarga disamarkan. Tercatat di log akses data pribadi.",
        responses={200: TargetOutputSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def targets(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        proposal = self.get_object()
        rows = list(self._targets(proposal).order_by("pk"))
        self._log(
            action=AccessAction.VIEW_HOUSEHOLD,
            object_type="csr_proposal_target",
            household_ids=[t.household_id for t in rows if t.household_id is not None],
            region_code=proposal.cycle.region_id,
        )
        return Response(TargetOutputSerializer(rows, many=True).data)

    @extend_schema(
        summary="Catat verifikasi lapangan satu sasaran (sekretariat)",
        description=(
            "Hanya untuk usulan berstatus diajukan. Sasaran yang tidak layak dikembalikan ke daftar sasaran; "
            "sasaran tambahan yang layak (ditautkan ke keluarga registri lewat `household`) menjadi alokasi mitra."
        ),
        parameters=[_TARGET_ID],
        request=TargetVerifySerializer,
        responses={200: TargetOutputSerializer, 400: ERROR_400, 403: ERROR_403},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"targets/(?P<target_id>[0-9]+)/verify",
        url_name="target-verify",
    )
    def verify_target(
        self, request: Request, pk: str | None = None, target_id: str | None = None, **kwargs: Any
    ) -> Response:
        proposal = self.get_object()
        target = ProposalTarget.objects.for_user(request.user).filter(proposal=proposal, pk=int(target_id or 0)).first()
        if target is None:
            raise NotFound(_("Sasaran tidak ditemukan pada usulan ini."))
        serializer = TargetVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        household = None
        if data.get("household"):
            household = Household.objects.for_user(request.user).filter(pk=data["household"]).first()
            if household is None:
                raise DomainError(
                    _("Keluarga tidak ditemukan di wilayah Anda."),
                    code="household_not_found",
                    extra={"field": "household"},
                )
        services.target_verify(
            actor=request.user, target=target, result=data["result"], note=data.get("note", ""), household=household
        )
        return Response(TargetOutputSerializer(self._targets(proposal).get(pk=target.pk)).data)

    @extend_schema(
        summary="Tumpang tindih bantuan per keluarga sasaran (sekretariat)",
        description=(
            "Per keluarga sasaran: program APBD/APBN atau mitra lain dengan jenis bantuan yang sama pada tahun "
            "siklus, dan usulan mitra lain yang menyebut keluarga itu. Keluarga tanpa tumpang tindih tidak "
            "dicantumkan."
        ),
        responses={200: OverlapSerializer(many=True), 403: ERROR_403},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def overlaps(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        proposal = self.get_object()
        found = selectors.proposal_overlaps(proposal=proposal)
        names = dict(
            self._targets(proposal).filter(household_id__in=found).values_list("household_id", "household__head_name")
        )
        rows = [
            {"household": household_id, "head_name": names.get(household_id, ""), "items": items}
            for household_id, items in sorted(found.items())
        ]
        self._log(
            action=AccessAction.VIEW_HOUSEHOLD,
            object_type="csr_overlap",
            household_ids=sorted(found),
            region_code=proposal.cycle.region_id,
        )
        return Response(OverlapSerializer(rows, many=True).data)

    @extend_schema(
        summary="Unduh PDF perjanjian kerja sama (PKS)",
        description="Dengan daftar sasaran layak (NIK disamarkan). Unduhan tercatat di log akses data pribadi.",
        responses={**PDF_200, 404: OpenApiResponse(description=gettext_lazy("Usulan ini belum memiliki PKS."))},
    )
    @action(detail=True, methods=["get"])
    def agreement(self, request: Request, pk: str | None = None, **kwargs: Any) -> FileResponse:
        proposal = self.get_object()
        agreement = Agreement.objects.for_user(request.user).filter(proposal=proposal).first()
        if agreement is None or not agreement.pdf:
            raise NotFound(_("Usulan ini belum memiliki PKS."))
        self._log(
            action=AccessAction.EXPORT,
            object_type="csr_agreement",
            household_ids=list(
                proposal.targets.filter(verification=VerificationResult.ELIGIBLE, household__isnull=False)
                .order_by("household_id")
                .values_list("household_id", flat=True)
            ),
            region_code=proposal.cycle.region_id,
        )
        return _pdf(agreement.pdf, f"pks-{proposal.pk}.pdf")

    # ------------------------------------------------------------------------------------------ deliveries

    @extend_schema(
        methods=["GET"],
        summary="Penyaluran program usulan ini",
        description="Intervensi yang dicatat untuk program pelaksanaan usulan (kosong sebelum disepakati).",
        responses={200: InterventionOutputSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Laporkan penyaluran ke satu sasaran (mitra)",
        description=(
            "Untuk usulan yang disepakati atau terlaksana, ke sasaran yang terverifikasi layak. Tercatat sebagai "
            "intervensi program usulan (kanal API) dan dihitung ulang dalam kesenjangan cakupan."
        ),
        request=DeliveryInputSerializer,
        responses={201: InterventionOutputSerializer, 400: ERROR_400, 403: ERROR_403},
    )
    @action(detail=True, methods=["get", "post"])
    def deliveries(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        proposal = self.get_object()
        if request.method == "POST":
            serializer = DeliveryInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            household = Household.objects.for_user(request.user).filter(pk=data.pop("household")).first()
            if household is None:
                raise DomainError(
                    _("Keluarga ini bukan sasaran terverifikasi layak dari usulan ini."),
                    code="not_eligible_target",
                    extra={"field": "household"},
                )
            intervention = services.delivery_record(
                actor=request.user, proposal=proposal, household=household, channel=EntryChannel.API, **data
            )
            return Response(InterventionOutputSerializer(intervention).data, status=status.HTTP_201_CREATED)
        rows = Intervention.objects.for_user(request.user).select_related("program", "household", "household__desa")
        rows = rows.filter(program_id=proposal.program_id) if proposal.program_id else rows.none()
        page = self.paginate_queryset(rows)  # type: ignore[arg-type]
        assert page is not None
        return self.get_paginated_response(InterventionOutputSerializer(page, many=True).data)


# ---------------------------------------------------------------------------------------------- refusals


@extend_schema_view(
    list=extend_schema(
        summary="Daftar surat tidak berpartisipasi",
        description="Mitra: suratnya sendiri; sekretariat: surat siklus wilayahnya.",
        parameters=[OpenApiParameter("cycle", OpenApiTypes.INT, description="Id siklus.")],
    ),
    retrieve=extend_schema(summary="Satu surat tidak berpartisipasi", description="Beserta status penerimaannya."),
)
class RefusalViewSet(CsrViewSet[Refusal], mixins.ListModelMixin, mixins.RetrieveModelMixin):
    # A partner that does not take part in a cycle states its reason in writing; the letter to the
    # Bupati/Wali Kota through Bappeda is generated as a PDF and the secretariat acknowledges it.

    queryset = Refusal.objects.all()
    serializer_class = RefusalOutputSerializer
    filter_backends: list[Any] = []
    ordering = "-pk"
    action_capabilities = {"create": PARTICIPATE, "acknowledge": MANAGE}

    def get_queryset(self) -> QuerySet[Refusal]:
        rows = selectors.refusals_for(user=self.request.user)
        cycle = _int_param(self.request, "cycle") if self.action == "list" else None
        return rows.filter(cycle_id=cycle) if cycle is not None else rows

    @extend_schema(
        summary="Kirim surat tidak berpartisipasi (mitra)",
        description=(
            "Alasan minimal 20 karakter; ditolak bila mitra punya usulan yang sedang berjalan pada siklus ini "
            "atau sudah mengirim surat. Surat kepada Bupati/Wali Kota melalui Bappeda dibuat sebagai PDF."
        ),
        request=RefusalInputSerializer,
        responses={201: RefusalOutputSerializer, 400: ERROR_400, 403: ERROR_403},
    )
    def create(self, request: Request, **kwargs: Any) -> Response:
        serializer = RefusalInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = self._partner_organization(data.pop("organization", None))
        cycle = self._cycle(data.pop("cycle"))
        refusal = services.refusal_submit(actor=request.user, organization=organization, cycle=cycle, **data)
        return Response(RefusalOutputSerializer(refusal).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Terima surat tidak berpartisipasi (sekretariat)",
        description="Sekali per surat; catatan penerimaan boleh kosong.",
        request=AcknowledgeSerializer,
        responses={200: RefusalOutputSerializer, 400: ERROR_400, 403: ERROR_403},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        refusal = self.get_object()
        serializer = AcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.refusal_acknowledge(
            actor=request.user, refusal=refusal, note=serializer.validated_data.get("note", "")
        )
        return Response(RefusalOutputSerializer(refusal).data)

    @extend_schema(
        summary="Unduh surat tidak berpartisipasi (PDF)",
        description="Surat mitra kepada Bupati/Wali Kota melalui Bappeda.",
        responses={**PDF_200, 404: OpenApiResponse(description=gettext_lazy("Surat belum dibuat."))},
    )
    @action(detail=True, methods=["get"])
    def letter(self, request: Request, pk: str | None = None, **kwargs: Any) -> FileResponse:
        refusal = self.get_object()
        if not refusal.letter_pdf:
            raise NotFound(_("Surat belum dibuat."))
        return _pdf(refusal.letter_pdf, f"surat-tidak-berpartisipasi-{refusal.pk}.pdf")
