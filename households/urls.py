from django.urls import path

from households import views

app_name = "households"

urlpatterns = [
    path("", views.HouseholdSearchView.as_view(), name="search"),
    path("keluarga/<int:pk>/", views.HouseholdDetailView.as_view(), name="detail"),
    path("buka/<str:kind>/<int:pk>/", views.RevealIdentifierView.as_view(), name="reveal"),
    path("ketidaksesuaian/", views.MismatchReportView.as_view(), name="mismatch"),
    path("ketidaksesuaian/unduh.xlsx", views.MismatchExportView.as_view(), name="mismatch-export"),
]
