"""Every URL pattern of tkpk.urls has a row in the matrix (or a written reason not to).

Adding a view without deciding who may see it fails here: add a Page, PublicPage or Endpoint to matrix.py.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver, resolve

from tests.permissions.matrix import (
    API_ENDPOINTS,
    API_FORMATS,
    API_WRITES,
    CSR_API,
    CSR_PAGES,
    EXEMPT_ROUTES,
    GAP_API,
    GAP_PAGES,
    PAGES,
    PROGRAM_PAGES,
    PUBLIC_PAGES,
)


def _join(prefix: str, route: str) -> str:
    # The same joining as ResolverMatch.route (django.urls.resolvers.URLResolver._join_route).
    return prefix + route.removeprefix("^") if prefix else route


def _leaf_routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> list[str]:
    routes = []
    for pattern in patterns:
        route = _join(prefix, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            routes += _leaf_routes(pattern.url_patterns, route)
        else:
            routes.append(route)
    return routes


def _matrix_paths() -> list[str]:
    paths = [page.path() for page in PAGES]
    paths += [page.path for page in PUBLIC_PAGES]
    paths += [page.path() for page in PROGRAM_PAGES]
    paths += [write.path(fmt) for write in API_WRITES for fmt in API_FORMATS]
    paths += [endpoint.path(fmt) for endpoint in API_ENDPOINTS for fmt in API_FORMATS]
    paths += [page.path() for page in GAP_PAGES]
    paths += [endpoint.path() for endpoint in GAP_API]
    paths += [page.path() for page in CSR_PAGES]
    paths += [endpoint.path(fmt) for endpoint in CSR_API for fmt in API_FORMATS]
    return paths


def test_every_url_pattern_is_in_the_matrix() -> None:
    covered = {resolve(path.partition("?")[0]).route for path in _matrix_paths()}
    routes = _leaf_routes(get_resolver().url_patterns)
    missing = [r for r in routes if r not in covered and not r.startswith(tuple(EXEMPT_ROUTES))]
    assert missing == [], f"URL patterns without a permission-matrix row (tests/permissions/matrix.py): {missing}"


def test_matrix_rows_point_at_real_routes() -> None:
    """The other direction: a matrix row whose URL no longer resolves is stale."""
    routes = set(_leaf_routes(get_resolver().url_patterns))
    for path in _matrix_paths():
        assert resolve(path.partition("?")[0]).route in routes, path


def test_the_walk_sees_the_known_views() -> None:
    """Guards the walker itself: it must list the registry views and the router's format-suffix routes."""
    routes = _leaf_routes(get_resolver().url_patterns)
    assert "registri/keluarga/<int:pk>/" in routes
    assert "registri/buka/<str:kind>/<int:pk>/" in routes
    assert any(r.startswith("api/v1/") and "format" in r for r in routes)
    assert any(r.startswith("admin/") for r in routes)
