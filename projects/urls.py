from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("projects/", views.project_list, name="project_list"),
    path("projects/mine/", views.my_projects, name="my_projects"),
    path("projects/<str:code>/", views.project_detail, name="project_detail"),
]
