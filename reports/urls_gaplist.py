"""URLs of the by-name gap list (mounted at /kesenjangan/keluarga/ with namespace "reports", see reports/urls.py)."""

from django.urls import URLPattern, path

from reports import views_gaplist as views

urlpatterns: list[URLPattern] = [
    path("", views.GapHouseholdListView.as_view(), name="gap_households"),
    path("unduh.xlsx", views.GapExportView.as_view(), name="gap_export"),
    path("verval/", views.VervalUploadView.as_view(), name="verval_upload"),
    path("verval/<int:pk>/", views.VervalJobView.as_view(), name="verval_detail"),
    path("verval/<int:pk>/konfirmasi/", views.VervalConfirmView.as_view(), name="verval_confirm"),
    path("verval/<int:pk>/batal/", views.VervalCancelView.as_view(), name="verval_cancel"),
]
