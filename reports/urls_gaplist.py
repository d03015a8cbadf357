"""URLs of the gaplist pages (see reports/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
