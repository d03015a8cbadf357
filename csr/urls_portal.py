"""The partner (company) CSR portal, ``/mitra-csr/`` (namespace ``csr_portal``)."""

from django.urls import path

from csr import views_portal as views

urlpatterns = [
    path("", views.PortalHomeView.as_view(), name="home"),
    path("alokasi.xlsx", views.AllocationExportView.as_view(), name="allocation-xlsx"),
    path("usulan/baru/", views.ProposalFormView.as_view(), name="proposal-new"),
    path("usulan/<int:pk>/", views.ProposalDetailView.as_view(), name="proposal-detail"),
    path("usulan/<int:pk>/ubah/", views.ProposalFormView.as_view(), name="proposal-edit"),
    path("usulan/<int:pk>/tindakan/", views.ProposalActionView.as_view(), name="proposal-action"),
    path("usulan/<int:pk>/pks.pdf", views.AgreementPdfView.as_view(), name="agreement-pdf"),
    path("usulan/<int:pk>/penyaluran/baru/", views.DeliveryCreateView.as_view(), name="delivery-new"),
    path("surat-tidak-berpartisipasi/baru/", views.RefusalCreateView.as_view(), name="refusal-new"),
    path("surat-tidak-berpartisipasi/<int:pk>/", views.RefusalDetailView.as_view(), name="refusal-detail"),
    path("surat-tidak-berpartisipasi/<int:pk>/surat.pdf", views.RefusalPdfView.as_view(), name="refusal-pdf"),
]
