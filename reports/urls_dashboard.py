"""URLs of the dashboard pages (see reports/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
