from django.urls import path
from rest_framework.routers import DefaultRouter

from csr.api import AllocationViewSet, CycleViewSet, ProposalViewSet, RefusalViewSet
from households.api import HouseholdViewSet
from programs.api import InterventionViewSet, ProgramViewSet
from reports.api import GapHouseholdList, GapSummaryView
from tkpk.api_views import OrganizationViewSet, RegionViewSet

router = DefaultRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("households", HouseholdViewSet, basename="household")
router.register("programs", ProgramViewSet, basename="program")
router.register("interventions", InterventionViewSet, basename="intervention")
router.register("csr/cycles", CycleViewSet, basename="csr-cycle")
router.register("csr/allocations", AllocationViewSet, basename="csr-allocation")
router.register("csr/proposals", ProposalViewSet, basename="csr-proposal")
router.register("csr/refusals", RefusalViewSet, basename="csr-refusal")

urlpatterns = [
    path("gaps/summary/", GapSummaryView.as_view(), name="gap-summary"),
    path("gaps/households/", GapHouseholdList.as_view(), name="gap-households"),
    *router.urls,
]
