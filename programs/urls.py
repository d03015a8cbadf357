from django.urls import path

from programs import views

app_name = "programs"

urlpatterns = [
    path("", views.ProgramListView.as_view(), name="list"),
    path("ringkasan/", views.ProgramOverviewView.as_view(), name="overview"),
    path("tambah/", views.ProgramCreateView.as_view(), name="create"),
    path("<int:pk>/", views.ProgramDetailView.as_view(), name="detail"),
    path("<int:pk>/ubah/", views.ProgramUpdateView.as_view(), name="update"),
    path("catat/", views.InterventionLogView.as_view(), name="log"),
    path("catat/cari-keluarga/", views.HouseholdFinderView.as_view(), name="household-finder"),
    path("catat/keluarga/<int:pk>/", views.HouseholdPanelView.as_view(), name="household-panel"),
    path("intervensi/<int:pk>/batal/", views.InterventionCancelView.as_view(), name="intervention-cancel"),
]
