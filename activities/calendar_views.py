"""The calendar feed's pages: the signed-in page that shows a user their private address
(copy, subscribe, regenerate, include the team), and the ``.ics`` itself, which a phone's
calendar fetches with no session: the token in its URL is the key."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views import View

from . import calendar_feed

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


class CalendarFeedView(View):
    """The signed-in user's calendar address (made the first time they open this page)."""

    def get(self, request):
        feed = calendar_feed.open_calendar_feed(by=request.user)
        url = calendar_feed.feed_url(request, feed)
        return render(
            request,
            "activities/calendar_feed.html",
            {
                "feed": feed,
                "url": url,
                # iPhone and macOS Calendar subscribe straight from a webcal:// link.
                "webcal_url": "webcal://" + url.split("://", 1)[1],
                "can_include_team": request.user.is_manager_or_admin,
                "days_back": calendar_feed.DAYS_BACK,
                "days_ahead": calendar_feed.DAYS_AHEAD,
            },
        )


class RegenerateCalendarFeedView(View):
    def post(self, request):
        calendar_feed.regenerate_calendar_feed(by=request.user)
        messages.success(
            request,
            _("New calendar address made. The old one no longer works: subscribe again with the new one."),
        )
        return redirect("activities:calendar-feed")


class CalendarFeedTeamView(View):
    """Managers and admins: include (or not) the team's items; others get 403."""

    def post(self, request):
        include = request.POST.get("include_team") == "on"
        calendar_feed.set_include_team(by=request.user, include=include)
        messages.success(
            request,
            _("Your calendar now includes your team's items.")
            if include
            else _("Your calendar now shows only your own items."),
        )
        return redirect("activities:calendar-feed")


class CalendarIcsView(View):
    """``GET /calendar/<id>/<token>.ics``: public by its token. An unknown feed, a wrong
    or old token, or a deactivated owner: 404, the same answer for each."""

    def get(self, request, feed_id: int, token: str):
        feed = calendar_feed.feed_for_token(feed_id, token)
        if feed is None:
            raise Http404
        language = request.GET.get("lang")
        with translation.override(language if language in LANGUAGE_CODES else translation.get_language()):
            body = calendar_feed.build_ics(
                feed, timezone.localdate(), base_url=f"{request.scheme}://{request.get_host()}"
            )
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Cache-Control"] = "private, no-store"
        return response
