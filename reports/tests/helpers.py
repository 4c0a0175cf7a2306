"""Small builders for report tests: activities straight into the table (the activity
services are tested in their app; reports only count rows)."""

from decimal import Decimal

from django.utils import timezone

from activities.models import Activity, ActivityKind, CallStage


def activity(
    *,
    owner,
    customer,
    kind=ActivityKind.CALL,
    at=None,
    effective=False,
    minutes=0,
    expense=Decimal(0),
    stage=CallStage.CONNECTED,
    competitor_news="",
):
    return Activity.objects.create(
        owner=owner,
        customer=customer,
        kind=kind,
        started_at=at or timezone.now(),
        purpose="new_development",
        call_stage=stage if kind == ActivityKind.CALL else None,
        effective=effective,
        duration_minutes=minutes,
        expense=expense,
        competitor_news=competitor_news,
    )
