from rest_framework.routers import DefaultRouter

from households.api import HouseholdViewSet
from programs.api import InterventionViewSet, ProgramViewSet
from tkpk.api_views import OrganizationViewSet, RegionViewSet

router = DefaultRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("households", HouseholdViewSet, basename="household")
router.register("programs", ProgramViewSet, basename="program")
router.register("interventions", InterventionViewSet, basename="intervention")

urlpatterns = router.urls
