"""Allocation upload pages (mounted at /csr/ with namespace "csr", see csr/urls.py)."""

from django.urls import URLPattern, path

from csr import views_import as views

urlpatterns: list[URLPattern] = [
    path("<int:cycle_id>/alokasi/unggah/", views.AllocationUploadView.as_view(), name="allocation-upload"),
    path("<int:cycle_id>/alokasi/templat.xlsx", views.AllocationTemplateView.as_view(), name="allocation-template"),
    path("<int:cycle_id>/alokasi/unggah/<int:pk>/", views.AllocationJobView.as_view(), name="allocation-job"),
    path(
        "<int:cycle_id>/alokasi/unggah/<int:pk>/konfirmasi/",
        views.AllocationConfirmView.as_view(),
        name="allocation-confirm",
    ),
    path(
        "<int:cycle_id>/alokasi/unggah/<int:pk>/batal/", views.AllocationCancelView.as_view(), name="allocation-cancel"
    ),
]
