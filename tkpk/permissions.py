"""DRF permission: the API side of the shared scoping (kept apart from DRF views to avoid an import cycle)."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from tkpk.scoping import Cap, scope_for


class HasScope(permissions.BasePermission):
    """Authenticated, with API access, and read-only unless the view allows writes for the role."""

    message = "Anda tidak memiliki akses ke data ini."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        scope = scope_for(request.user)
        capability = getattr(view, "required_capability", Cap.API)
        return scope.can(Cap.API) and scope.can(capability)
