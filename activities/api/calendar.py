"""API of the private calendar feed: read the caller's address, include the team
(managers), make a new address (the old one dies)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from activities import calendar_feed


class CalendarFeedSerializer(serializers.Serializer):
    url = serializers.URLField(read_only=True, help_text="The private .ics address; keep it secret.")
    include_team = serializers.BooleanField(
        read_only=True, help_text="Managers: the team tree's plan items and follow-ups are included."
    )
    created_at = serializers.DateTimeField(read_only=True, help_text="When this address was made.")


class CalendarFeedTeamSerializer(serializers.Serializer):
    include_team = serializers.BooleanField()


def _output(request, feed) -> dict:
    return CalendarFeedSerializer(
        {
            "url": calendar_feed.feed_url(request, feed),
            "include_team": feed.include_team,
            "created_at": feed.created_at,
        }
    ).data


class CalendarFeedView(APIView):
    """``GET /api/calendar-feed/``: the caller's calendar address (made on first use).
    ``PATCH`` ``{include_team}``: managers and admins only (others 403)."""

    @extend_schema(responses=CalendarFeedSerializer, tags=["calendar"])
    def get(self, request):
        return Response(_output(request, calendar_feed.open_calendar_feed(by=request.user)))

    @extend_schema(request=CalendarFeedTeamSerializer, responses=CalendarFeedSerializer, tags=["calendar"])
    def patch(self, request):
        serializer = CalendarFeedTeamSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feed = calendar_feed.set_include_team(
            by=request.user, include=serializer.validated_data["include_team"]
        )
        return Response(_output(request, feed))


class RegenerateCalendarFeedView(APIView):
    """``POST /api/calendar-feed/regenerate/``: a new address; the old one answers 404."""

    # The answer holds the secret address: never stored for an Idempotency-Key replay.
    idempotent_replay = False

    @extend_schema(request=None, responses=CalendarFeedSerializer, tags=["calendar"])
    def post(self, request):
        return Response(_output(request, calendar_feed.regenerate_calendar_feed(by=request.user)))
