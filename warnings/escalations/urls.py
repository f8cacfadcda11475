from django.urls import path

from . import views

urlpatterns = [
    path("projects/<str:code>/escalations/", views.escalation_create, name="escalation_create"),
]
