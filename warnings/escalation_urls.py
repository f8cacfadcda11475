from django.urls import path

from . import escalation_views

urlpatterns = [
    path("projects/<str:code>/escalations/", escalation_views.escalation_create, name="escalation_create"),
]
