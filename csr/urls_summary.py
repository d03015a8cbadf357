"""The Musrenbang CSR summary, mounted at ``/csr/ringkasan/`` (see csr/urls.py): the page (``?cycle=``) and its
.xlsx / PDF downloads."""

from django.urls import URLPattern, path

from csr import views_summary as views

urlpatterns: list[URLPattern] = [
    path("", views.SummaryView.as_view(), name="summary"),
    path("unduh/<str:kind>/", views.SummaryDownloadView.as_view(), name="summary-download"),
]
