"""Secretariat pages of the CSR portal (mounted at /csr/, namespace "csr"; Cap.CSR_MANAGE)."""

from django.urls import URLPattern, path

from csr import views_secretariat as views

urlpatterns: list[URLPattern] = [
    path("", views.CycleListView.as_view(), name="cycle-list"),
    path("siklus/baru/", views.CycleFormView.as_view(), name="cycle-new"),
    path("<int:pk>/", views.CycleDetailView.as_view(), name="cycle-detail"),
    path("<int:pk>/ubah/", views.CycleFormView.as_view(), name="cycle-edit"),
    path("<int:pk>/buka-kembali/<int:organization_pk>/", views.CycleReopenView.as_view(), name="cycle-reopen"),
    path("<int:pk>/alokasi/", views.AllocateView.as_view(), name="allocate"),
    path("<int:pk>/alokasi/daftar/", views.AllocationListView.as_view(), name="allocation-list"),
    path("<int:pk>/alokasi/peta/", views.AllocationMapView.as_view(), name="allocation-map"),
    path("alokasi/<int:pk>/kembalikan/", views.AllocationReleaseView.as_view(), name="allocation-release"),
    path("<int:pk>/usulan/", views.ReviewQueueView.as_view(), name="review"),
    path("usulan/<int:pk>/", views.ProposalReviewView.as_view(), name="proposal-review"),
    path("usulan/<int:pk>/verifikasi/", views.ProposalVerifyTargetsView.as_view(), name="proposal-verify"),
    path("usulan/<int:pk>/tindakan/", views.ProposalActionView.as_view(), name="proposal-action"),
    path("usulan/<int:pk>/cari-keluarga/", views.HouseholdSearchView.as_view(), name="household-search"),
    path("usulan/<int:pk>/pks.pdf", views.AgreementPdfView.as_view(), name="agreement-pdf"),
    path("usulan/<int:pk>/pks/buat-ulang/", views.AgreementRefreshView.as_view(), name="agreement-refresh"),
    path("<int:pk>/penolakan/", views.RefusalListView.as_view(), name="refusal-list"),
    path("penolakan/<int:pk>/surat.pdf", views.RefusalPdfView.as_view(), name="refusal-pdf"),
    path("penolakan/<int:pk>/terima/", views.RefusalAcknowledgeView.as_view(), name="refusal-acknowledge"),
]
