"""Factories and helpers for the activities tests.

The objection catalog and the cadence rules come from data migrations. Transactional
tests (the role matrix, the browser tests) empty every table when they finish, so
``ensure_default_catalog`` puts them back first when they are gone.
"""

import importlib
import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from activities import services
from activities.models import Activity, ActivityKind, CadenceRule, DailyPlan, Objection, Purpose
from crm.models import Customer, User

_objections = importlib.import_module("activities.migrations.0002_objection_catalog")
_cadence = importlib.import_module("activities.migrations.0003_default_contact_cadence")


def ensure_default_catalog() -> None:
    if not Objection.objects.exists():
        _objections.seed_objections(apps, schema_editor=None)
    if not CadenceRule.objects.exists():
        _cadence.seed_cadence(apps, schema_editor=None)


def objection(order: int = 1) -> Objection:
    ensure_default_catalog()
    return Objection.objects.get(order=order)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """An aware datetime on ``day`` in the company time zone."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def log_call(
    customer: Customer,
    *,
    by: User | None = None,
    started_at: datetime | None = None,
    next_follow_up_on: date | None = None,
    **fields,
) -> Activity:
    """A call through the service, with the follow-up every call needs."""
    started_at = started_at or timezone.now()
    return services.log_activity(
        by=by or customer.owner,
        customer=customer,
        kind=ActivityKind.CALL,
        purpose=Purpose.NEW_DEVELOPMENT,
        started_at=started_at,
        next_follow_up_on=next_follow_up_on or timezone.localdate(started_at) + timedelta(days=7),
        **fields,
    )


def log_visit(
    customer: Customer, *, by: User | None = None, started_at: datetime | None = None, **fields
) -> Activity:
    return services.log_activity(
        by=by or customer.owner,
        customer=customer,
        kind=ActivityKind.VISIT,
        purpose=Purpose.SERVICE,
        started_at=started_at or timezone.now(),
        **fields,
    )


def bulk_activities(
    customers: list[Customer], *, owner: User, per_customer: int = 1, started_at: datetime | None = None
) -> list[Activity]:
    """Many activities in one INSERT (for query-count tests)."""
    started_at = started_at or timezone.now() - timedelta(hours=1)
    return Activity.objects.bulk_create(
        [
            Activity(
                owner=owner,
                customer=customer,
                kind=ActivityKind.CALL,
                call_stage=2,
                purpose=Purpose.ORDER,
                started_at=started_at - timedelta(minutes=n),
                expense=Decimal(10),
            )
            for customer in customers
            for n in range(per_customer)
        ]
    )


def submitted_plan(owner: User, customer: Customer, day: date | None = None) -> DailyPlan:
    plan = services.open_plan(by=owner, day=day or timezone.localdate())
    services.add_plan_item(plan=plan, by=owner, customer=customer, purpose=Purpose.SERVICE)
    return services.submit_plan(plan=plan, by=owner)


def photo_upload(
    name: str = "shop.jpg", size: tuple[int, int] = (64, 48), image_format: str = "JPEG", mode: str = "RGB"
):
    """A small real image as an upload, made by Pillow (visit photos)."""
    buffer = io.BytesIO()
    Image.new(mode, size, color=1 if mode == "1" else (200, 120, 40)).save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{image_format.lower()}")
