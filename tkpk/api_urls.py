from rest_framework.routers import DefaultRouter

from households.api import HouseholdViewSet
from tkpk.api_views import OrganizationViewSet, RegionViewSet

router = DefaultRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("households", HouseholdViewSet, basename="household")

urlpatterns = router.urls
