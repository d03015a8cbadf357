from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class DefaultLanguageMiddleware:
    """Bahasa Indonesia by default: the browser's Accept-Language is ignored, English is chosen explicitly
    with the language selector (cookie). Must run before LocaleMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
