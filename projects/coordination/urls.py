from django.urls import path

from . import views

urlpatterns = [
    path("coordination/", views.my_items, name="coordination_items"),
    path("projects/<str:code>/coordination/", views.item_raise, name="coordination_item_raise"),
    path("coordination/<int:pk>/assign/", views.item_assign, name="coordination_item_assign"),
    path("coordination/<int:pk>/<slug:step>/", views.item_step, name="coordination_item_step"),
]
