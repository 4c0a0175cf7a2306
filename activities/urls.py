"""Pages of the daily routine (included at the site root; "my day" itself is ``home``)."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import calendar_views, exports, team_views, views, visit_views

app_name = "activities"

urlpatterns = [
    path("activities/", views.ActivityListView.as_view(), name="activity-list"),
    path("activities/export/", exports.ActivityExportView.as_view(), name="activity-export"),
    path("activities/customers/<int:pk>/log/", views.LogActivityView.as_view(), name="log-activity"),
    # Plans & reports: the salesperson's side.
    path("plans/", views.PlansView.as_view(), name="plans"),
    path("plans/open/", views.OpenPlanView.as_view(), name="plan-open"),
    path("plans/<int:pk>/", views.PlanDetailView.as_view(), name="plan-detail"),
    path("plans/<int:pk>/items/", views.AddPlanItemView.as_view(), name="plan-item-add"),
    path("plans/<int:pk>/picker/", views.PlanPickerView.as_view(), name="plan-picker"),
    path("plans/add-customers/", views.PlanAddCustomersView.as_view(), name="plan-add-customers"),
    path("plans/items/<int:pk>/delete/", views.RemovePlanItemView.as_view(), name="plan-item-delete"),
    path("plans/items/<int:pk>/done/", views.PlanItemDoneView.as_view(), name="plan-item-done"),
    path("plans/<int:pk>/submit/", views.SubmitPlanView.as_view(), name="plan-submit"),
    path("plans/<int:pk>/approve/", views.ApprovePlanView.as_view(), name="plan-approve"),
    path("plans/<int:pk>/return/", views.ReturnPlanView.as_view(), name="plan-return"),
    path("daily-reports/open/", views.OpenReportView.as_view(), name="report-open"),
    path("daily-reports/<int:pk>/", views.ReportDetailView.as_view(), name="report-detail"),
    path("daily-reports/<int:pk>/submit/", views.SubmitReportView.as_view(), name="report-submit"),
    path("daily-reports/<int:pk>/sign-off/", views.SignOffReportView.as_view(), name="report-sign-off"),
    path("daily-reports/<int:pk>/return/", views.ReturnReportView.as_view(), name="report-return"),
    # The manager's side.
    path("approvals/", views.ApprovalsView.as_view(), name="approvals"),
    # Escalations (市场状况反映表 / 客诉).
    path("escalations/", views.MarketReportListView.as_view(), name="market-report-list"),
    path("escalations/new/", views.MarketReportCreateView.as_view(), name="market-report-create"),
    path("escalations/<int:pk>/", views.MarketReportDetailView.as_view(), name="market-report-detail"),
    # Field visits (外勤签到): check in at a customer, the visit (check out, photos), its
    # photos (served only to those who see the customer), the customer's location.
    path("customers/<int:pk>/check-in/", visit_views.CheckInView.as_view(), name="visit-check-in"),
    path(
        "customers/<int:pk>/location/", visit_views.CustomerLocationView.as_view(), name="customer-location"
    ),
    path("visits/<int:pk>/", visit_views.VisitDetailView.as_view(), name="visit-detail"),
    path("visits/<int:pk>/check-out/", visit_views.CheckOutView.as_view(), name="visit-check-out"),
    path("visits/<int:pk>/photos/", visit_views.VisitPhotoAddView.as_view(), name="visit-photo-add"),
    path("visits/photos/<int:pk>/", visit_views.VisitPhotoView.as_view(), name="visit-photo"),
    # Accompanied visits (陪同拜访): who went along, and their coaching notes.
    path("visits/<int:pk>/companions/", visit_views.CompanionAddView.as_view(), name="visit-companion-add"),
    path(
        "visits/<int:pk>/companions/<int:user_id>/remove/",
        visit_views.CompanionRemoveView.as_view(),
        name="visit-companion-remove",
    ),
    path(
        "visits/<int:pk>/coaching-note/", visit_views.CoachingNoteView.as_view(), name="visit-coaching-note"
    ),
    # The managers' view of the team's check-ins of a day.
    path("visits/team/", team_views.TeamDayView.as_view(), name="team-day"),
    # The bell.
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/<int:pk>/read/", views.NotificationReadView.as_view(), name="notification-read"),
    path("notifications/read-all/", views.NotificationReadAllView.as_view(), name="notifications-read-all"),
    # The private calendar feed: the page with its address, and the .ics (public by its token).
    path("calendar/", calendar_views.CalendarFeedView.as_view(), name="calendar-feed"),
    path(
        "calendar/regenerate/",
        calendar_views.RegenerateCalendarFeedView.as_view(),
        name="calendar-feed-regenerate",
    ),
    path("calendar/team/", calendar_views.CalendarFeedTeamView.as_view(), name="calendar-feed-team"),
    path(
        "calendar/<int:feed_id>/<str:token>.ics",
        login_not_required(calendar_views.CalendarIcsView.as_view()),
        name="calendar-ics",
    ),
]
