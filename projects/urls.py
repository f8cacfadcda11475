from django.urls import path

from . import replan_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("projects/", views.project_list, name="project_list"),
    path("projects/mine/", views.my_projects, name="my_projects"),
    path("projects/<str:code>/", views.project_detail, name="project_detail"),
    path(
        "projects/<str:code>/milestones/<slug:type_code>/",
        views.milestone_edit,
        name="milestone_edit",
    ),
    path(
        "projects/<str:code>/milestones/<slug:type_code>/row/",
        views.milestone_row,
        name="milestone_row",
    ),
    path(
        "projects/<str:code>/milestones/<slug:type_code>/replan/",
        views.replan_propose,
        name="replan_propose",
    ),
    path("projects/<str:code>/notes/<slug:kind>/", views.progress_edit, name="progress_edit"),
    path("replans/", replan_views.replan_queue, name="replan_queue"),
    path("replans/<int:pk>/approve/", replan_views.replan_approve, name="replan_approve"),
    path("replans/<int:pk>/reject/", replan_views.replan_reject, name="replan_reject"),
]
