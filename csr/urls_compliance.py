"""Compliance of a CSR cycle (see csr/urls.py): ``/csr/kepatuhan/`` (newest cycle or ``?cycle=``) and
``/csr/kepatuhan/<cycle_id>/``."""

from django.urls import URLPattern, path

from csr import views_compliance as views

urlpatterns: list[URLPattern] = [
    path("kepatuhan/", views.ComplianceView.as_view(), name="compliance"),
    path("kepatuhan/<int:cycle_id>/", views.ComplianceView.as_view(), name="compliance"),
]
