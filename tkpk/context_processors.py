from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tkpk.scoping import Cap, Role, scope_for


def scope(request: HttpRequest) -> dict[str, Any]:
    """Expose the user's scope and capabilities to templates (navigation only; views enforce access)."""
    user_scope = scope_for(getattr(request, "user", None))
    return {
        "scope": user_scope,
        "can_registry": user_scope.can(Cap.REGISTRY_VIEW),
        "can_admin": user_scope.can(Cap.ADMIN) and getattr(request.user, "is_staff", False),
        "can_dashboard": user_scope.can(Cap.DASHBOARD_VIEW),
        "can_reveal": user_scope.can(Cap.REGISTRY_REVEAL_ID),
        "can_import": user_scope.can(Cap.IMPORT),
        "can_programs": user_scope.can(Cap.PROGRAM_VIEW),
        "can_log_intervention": user_scope.can(Cap.INTERVENTION_LOG),
        "can_manage_programs": user_scope.can(Cap.PROGRAM_MANAGE),
        "can_gaps": user_scope.can(Cap.GAP_VIEW),
        # The partner (company) CSR portal; superusers reach it by URL only (the navbar stays compact).
        "can_csr_portal": user_scope.can(Cap.CSR_PARTICIPATE) and not user_scope.is_superuser,
        "can_csr_manage": user_scope.can(Cap.CSR_MANAGE),
        # Activity reports: agencies/partners submit; the secretariat reviews; leadership reads the board.
        "can_activity_submit": user_scope.can(Cap.ACTIVITY_REPORT_SUBMIT),
        "can_activity_board": user_scope.can(Cap.ACTIVITY_REPORT_REVIEW)
        or bool(user_scope.grants_for(Role.LEADERSHIP)),
        "role_labels": sorted({str(Role(g.role).label) for g in user_scope.grants}),
    }
