from django.urls import path

from . import views

urlpatterns = [
    path("ledger/", views.ledger_list, name="ledger_list"),
    path("ledger/snapshot/", views.ledger_snapshot, name="ledger_snapshot"),
    path("ledger/<int:pk>/", views.ledger_detail, name="ledger_detail"),
    path("ledger/<int:pk>/export/", views.ledger_download, name="ledger_download"),
    path("ledger/<int:pk>/changes/", views.ledger_changes, name="ledger_changes"),
    path("ledger/<int:pk>/changes/export/", views.ledger_changes_download, name="ledger_changes_download"),
    path("rankings/", views.rankings, name="rankings"),
    path("rankings/export/", views.rankings_download, name="rankings_download"),
]
