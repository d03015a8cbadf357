from django.urls import path

from households import views, views_import

app_name = "households"

urlpatterns = [
    path("", views.HouseholdSearchView.as_view(), name="search"),
    path("keluarga/<int:pk>/", views.HouseholdDetailView.as_view(), name="detail"),
    path("keluarga/<int:pk>/graduasi/", views.HouseholdGraduateView.as_view(), name="graduate"),
    path("graduasi/<int:pk>/batal/", views.GraduationRevokeView.as_view(), name="graduation-revoke"),
    path("graduasi/<int:pk>/bukti/", views.GraduationEvidenceView.as_view(), name="graduation-evidence"),
    path("buka/<str:kind>/<int:pk>/", views.RevealIdentifierView.as_view(), name="reveal"),
    path("ketidaksesuaian/", views.MismatchReportView.as_view(), name="mismatch"),
    path("ketidaksesuaian/unduh.xlsx", views.MismatchExportView.as_view(), name="mismatch-export"),
    # Bulk import (secretariat only): history, upload, preview/progress/result, actions, error report.
    path("impor/", views_import.ImportJobListView.as_view(), name="import-list"),
    path("impor/unggah/", views_import.ImportUploadView.as_view(), name="import-upload"),
    path("impor/<int:pk>/", views_import.ImportJobDetailView.as_view(), name="import-detail"),
    path("impor/<int:pk>/progres/", views_import.ImportJobProgressView.as_view(), name="import-progress"),
    path("impor/<int:pk>/konfirmasi/", views_import.ImportJobConfirmView.as_view(), name="import-confirm"),
    path("impor/<int:pk>/batal/", views_import.ImportJobCancelView.as_view(), name="import-cancel"),
    path("impor/<int:pk>/ulang/", views_import.ImportJobRerunView.as_view(), name="import-rerun"),
    path("impor/<int:pk>/kesalahan.xlsx", views_import.ImportErrorReportView.as_view(), name="import-errors"),
]
