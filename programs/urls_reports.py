from django.urls import path

app_name = "activity_reports"

urlpatterns: list = []
