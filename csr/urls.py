"""Secretariat pages of the CSR portal (cycles, allocation, review, compliance, Musrenbang CSR summary)."""

from django.urls import include, path

app_name = "csr"

urlpatterns = [
    path("", include("csr.urls_secretariat")),
    path("", include("csr.urls_import")),
    path("ringkasan/", include("csr.urls_summary")),
    path("", include("csr.urls_compliance")),
]
