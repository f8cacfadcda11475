from django.urls import path

from . import ladder_views, views

urlpatterns = [
    path("projects/<str:code>/escalations/", views.escalation_create, name="escalation_create"),
    path("ladder/", ladder_views.ladder_queue, name="ladder_queue"),
    path("ladder/<int:pk>/<slug:decision>/", ladder_views.ladder_decide, name="ladder_decide"),
]
