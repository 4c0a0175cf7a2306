from django.urls import path

from . import views

app_name = "funnel"

urlpatterns = [
    path("", views.FunnelSummaryView.as_view(), name="summary"),
    path("customers/<int:pk>/grade/", views.ChangeGradeView.as_view(), name="change-grade"),
    path("customers/<int:pk>/orders/new/", views.RecordOrderView.as_view(), name="record-order"),
]
