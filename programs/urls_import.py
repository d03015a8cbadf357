from django.urls import path

app_name = "program_imports"

urlpatterns: list = []
