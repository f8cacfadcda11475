from django.urls import path

from . import views

urlpatterns = [
    path("screen/<str:token>/", views.screen, name="screen"),
]
