from django.urls import path

from . import forecast_views, meeting_views, views

app_name = "reports"


def _with_export(route: str, view, name: str) -> list:
    return [
        path(route, view.as_view(), name=name),
        path(f"{route}export/", view.as_view(export=True), name=f"{name}-export"),
    ]


urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    *_with_export("funnel/", views.FunnelDashboardView, "funnel"),
    *_with_export("backward-plan/", views.BackwardPlanView, "backward-plan"),
    *_with_export("conversion/", views.ConversionView, "conversion"),
    path("conversion/grades/<int:pk>/calibrate/", views.CalibrateView.as_view(), name="calibrate"),
    *_with_export("quota/", views.QuotaView, "quota"),
    *_with_export("activity/", views.ActivityReportView, "activity"),
    *_with_export("forecast/", forecast_views.ForecastView, "forecast"),
    path("forecast/adjust/", forecast_views.ForecastAdjustView.as_view(), name="forecast-adjust"),
    *_with_export("forecast/accuracy/", forecast_views.ForecastAccuracyView, "forecast-accuracy"),
    *_with_export("weekly/", views.WeeklyReportView, "weekly"),
    path("targets/", views.TargetListView.as_view(), name="targets"),
    path("targets/<int:pk>/split/", views.TargetSplitView.as_view(), name="target-split"),
    path("meetings/", meeting_views.MeetingListView.as_view(), name="meetings"),
    path("meetings/<int:pk>/", meeting_views.MeetingView.as_view(), name="meeting"),
    path("meetings/<int:pk>/notes/", meeting_views.MeetingNotesView.as_view(), name="meeting-notes"),
    path(
        "meetings/<int:pk>/attendance/",
        meeting_views.MeetingAttendanceView.as_view(),
        name="meeting-attendance",
    ),
    path(
        "meetings/<int:pk>/action-items/",
        meeting_views.ActionItemAddView.as_view(),
        name="meeting-action-items",
    ),
    path("meetings/<int:pk>/export/", meeting_views.MeetingExportView.as_view(), name="meeting-export"),
    path("action-items/<int:pk>/done/", meeting_views.ActionItemDoneView.as_view(), name="action-item-done"),
]
