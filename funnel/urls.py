from django.urls import path

from . import views

app_name = "funnel"

urlpatterns = [
    path("", views.FunnelSummaryView.as_view(), name="summary"),
    path("customers/<int:pk>/grade/", views.ChangeGradeView.as_view(), name="change-grade"),
    path("customers/<int:pk>/orders/new/", views.RecordOrderView.as_view(), name="record-order"),
    # Funnel management: alerts, owners, handover, departure, pool, conflicts, balance.
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
    path("alerts/<int:pk>/snooze/", views.SnoozeAlertView.as_view(), name="alert-snooze"),
    path("customers/<int:pk>/reassign/", views.ReassignView.as_view(), name="customer-reassign"),
    path("customers/<int:pk>/release/", views.ReleaseView.as_view(), name="customer-release"),
    path("reassign/", views.BulkReassignView.as_view(), name="bulk-reassign"),
    path("handover/", views.HandoverProgressView.as_view(), name="handover-progress"),
    path("handover/tasks/", views.HandoverTaskListView.as_view(), name="handover-tasks"),
    path("handover/tasks/<int:pk>/done/", views.TickHandoverTaskView.as_view(), name="handover-task-done"),
    path("departures/", views.DepartureListView.as_view(), name="departure-list"),
    path("departures/<int:pk>/", views.DepartureWizardView.as_view(), name="departure-wizard"),
    path("pool/", views.PoolListView.as_view(), name="pool-list"),
    path("pool/<int:pk>/", views.PoolDetailView.as_view(), name="pool-detail"),
    path("pool/<int:pk>/claim/", views.ClaimView.as_view(), name="pool-claim"),
    path("conflicts/", views.ConflictListView.as_view(), name="conflict-list"),
    path("conflicts/new/", views.ConflictCreateView.as_view(), name="conflict-create"),
    path("conflicts/<int:pk>/", views.ConflictDetailView.as_view(), name="conflict-detail"),
    path("balance/", views.BalanceView.as_view(), name="balance"),
]
