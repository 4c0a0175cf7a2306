"""Field visits (外勤签到): check in on arrival, check out on leaving, photos, and the
customer's known location. Writes, like ``services``: keyword-only, one transaction,
``PermissionDenied`` for the wrong person, ``ValidationError`` for bad input.

A visit is never blocked by a missing location: no permission, no fix in time or no
GPS is saved as "no location" (``LocationStatus``). Offline devices resend with the same
``client_key``; the second call finds the first row instead of writing another.
"""

import io
import math
import uuid
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from crm import services as crm_services
from crm.models import Customer, User

from . import permissions, selectors, services
from .models import (
    Activity,
    ActivityKind,
    ActivitySettings,
    CustomerLocation,
    LocationSource,
    LocationStatus,
    PlanItem,
    PlanItemKind,
    Purpose,
    Visit,
    VisitCompanion,
    VisitPhoto,
)

EARTH_RADIUS_M = 6_371_008.8
# A check-in the phone sent this long after making it was queued offline: it keeps the
# phone's time. Older than the maximum age, it is refused.
OFFLINE_SYNC_GRACE = timedelta(minutes=2)
OFFLINE_CHECK_IN_MAX_AGE = timedelta(days=3)
COORDINATE = Decimal("0.000001")
COACHING_NOTE_MAX_LENGTH = 4000


@dataclass(frozen=True)
class Fix:
    """A position the browser reported (``navigator.geolocation``)."""

    latitude: Decimal
    longitude: Decimal
    accuracy_m: int | None = None

    @classmethod
    def parse(cls, latitude, longitude, accuracy=None) -> "Fix | None":
        """A fix from raw request values, or ``None`` when they are absent. Values out of
        range are bad input, not a missing location."""
        if latitude in (None, "") or longitude in (None, ""):
            return None
        try:
            lat = Decimal(str(latitude)).quantize(COORDINATE, rounding=ROUND_HALF_UP)
            lon = Decimal(str(longitude)).quantize(COORDINATE, rounding=ROUND_HALF_UP)
            acc = None if accuracy in (None, "") else max(0, round(float(accuracy)))
        except (ArithmeticError, ValueError, TypeError):
            raise ValidationError({"latitude": _("The location is not a valid position.")}) from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (acc is not None and not math.isfinite(acc)):
            raise ValidationError({"latitude": _("The location is not a valid position.")})
        return cls(lat, lon, acc)


def distance_m(a_lat: Decimal, a_lon: Decimal, b_lat: Decimal, b_lon: Decimal) -> int:
    """Great-circle distance in whole metres (haversine; plenty for a 500 m flag)."""
    p1, p2 = math.radians(float(a_lat)), math.radians(float(b_lat))
    dp, dl = p2 - p1, math.radians(float(b_lon) - float(a_lon))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h))))


def _status_for(fix: Fix | None, status: str) -> str:
    if fix is not None:
        return LocationStatus.FIXED
    if status in LocationStatus.values and status != LocationStatus.FIXED:
        return status
    return LocationStatus.UNAVAILABLE


# --- Check-in / check-out ------------------------------------------------------------------


def _plan_item_for(by: User, customer: Customer, day, plan_item: PlanItem | None) -> PlanItem | None:
    """The plan item this visit fulfils: the one chosen (it must be ``by``'s, for this
    customer, on that day), else the first visit item for the customer on that day."""
    if plan_item is not None:
        if (
            plan_item.plan.owner_id != by.pk
            or plan_item.customer_id != customer.pk
            or plan_item.plan.date != day
        ):
            raise ValidationError(
                {"plan_item": _("This plan item is not for this customer on your plan today.")}
            )
        return plan_item
    return (
        PlanItem.objects.filter(plan__owner=by, plan__date=day, customer=customer, kind=PlanItemKind.VISIT)
        .order_by("done", "starts_at", "pk")
        .first()
    )


@transaction.atomic
def check_in(
    *,
    by: User,
    customer: Customer,
    fix: Fix | None,
    status: str = "",
    purpose: str = "",
    plan_item: PlanItem | None = None,
    set_location: bool = False,
    client_key: uuid.UUID | None = None,
    recorded_at: datetime | None = None,
    companions: list[User] | None = None,
    now: datetime | None = None,
) -> tuple[Visit, bool]:
    """``by`` checks in at ``customer`` (anyone who can see the live customer; the visit
    is credited to them). Stores the server time and the browser's fix, or "no
    location" with the reason; measures the distance from the customer's known location
    and flags it beyond ``ActivitySettings.check_in_flag_distance_m``. With
    ``set_location`` and no known location yet, a fix accurate enough becomes the
    customer's location. Logs the visit activity (which ticks the plan item done) and
    links the plan item. Returns ``(visit, created)``; the same ``client_key`` again
    returns the first visit unchanged (the unique constraint settles a race).

    ``recorded_at`` is when the phone made a check-in that it queued offline: a check-in
    that arrives later than that (but within ``OFFLINE_CHECK_IN_MAX_AGE``) keeps the
    phone's time and records the server's as ``synced_at``, so the team's day shows
    both. ``companions`` went along (陪同拜访; see ``add_companion`` for who may)."""
    if client_key is not None:
        existing = Visit.objects.filter(owner=by, client_key=client_key).first()
        if existing is not None:
            return existing, False
    customer = services.visible_live_customer(by, customer)
    received_at = now or timezone.now()
    now = _offline_time(recorded_at, received_at)
    day = timezone.localtime(now).date()
    plan_item = _plan_item_for(by, customer, day, plan_item)
    purpose = purpose or (plan_item.purpose if plan_item else Purpose.OTHER)
    if purpose not in Purpose.values:
        raise ValidationError({"purpose": _("Choose a purpose.")})
    visit = Visit(
        owner=by,
        customer=customer,
        plan_item=plan_item,
        client_key=client_key,
        checked_in_at=now,
        synced_at=received_at if now != received_at else None,
        check_in_status=_status_for(fix, status),
    )
    if fix is not None:
        visit.check_in_latitude, visit.check_in_longitude = fix.latitude, fix.longitude
        visit.check_in_accuracy_m = fix.accuracy_m
        _measure(visit, customer, fix, by=by, now=now, set_location=set_location)
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:
        if client_key is None:
            raise
        return Visit.objects.get(owner=by, client_key=client_key), False
    visit.activity = services.log_activity(
        by=by, customer=customer, kind=ActivityKind.VISIT, purpose=purpose, started_at=now
    )
    visit.save(update_fields=["activity"])
    if plan_item is not None:
        PlanItem.objects.filter(pk=plan_item.pk).update(done=True, activity=visit.activity)
    _join(visit, companions or [], by=by, now=now)
    return visit, True


def _offline_time(recorded_at: datetime | None, received_at: datetime) -> datetime:
    """The time a check-in happened: the server's, unless the phone says it was made
    offline a while ago. A time ahead of the server (beyond clock drift) or older than
    ``OFFLINE_CHECK_IN_MAX_AGE`` is refused rather than trusted."""
    if recorded_at is None or recorded_at >= received_at - OFFLINE_SYNC_GRACE:
        if recorded_at is not None and recorded_at > received_at + services.FUTURE_TOLERANCE:
            raise ValidationError({"recorded_at": _("A check-in cannot be recorded in the future.")})
        return received_at
    if recorded_at < received_at - OFFLINE_CHECK_IN_MAX_AGE:
        raise ValidationError(
            {
                "recorded_at": _("This check-in was made more than %(days)s days ago; log the visit instead.")
                % {"days": OFFLINE_CHECK_IN_MAX_AGE.days}
            }
        )
    return recorded_at


def _measure(
    visit: Visit, customer: Customer, fix: Fix, *, by: User, now: datetime, set_location: bool
) -> None:
    """Distance and flag against the known location; or make this fix the location."""
    known = CustomerLocation.objects.select_for_update().filter(customer=customer).first()
    if known is not None:
        visit.distance_m = distance_m(known.latitude, known.longitude, fix.latitude, fix.longitude)
        visit.far_from_customer = visit.distance_m > ActivitySettings.load().check_in_flag_distance_m
    elif set_location and (
        fix.accuracy_m is None or fix.accuracy_m <= ActivitySettings.load().check_in_flag_distance_m
    ):
        CustomerLocation.objects.create(
            customer=customer,
            latitude=fix.latitude,
            longitude=fix.longitude,
            source=LocationSource.CHECK_IN,
            set_by=by,
            set_at=now,
        )
        visit.distance_m, visit.set_customer_location = 0, True


@transaction.atomic
def check_out(
    *,
    by: User,
    visit: Visit,
    fix: Fix | None,
    status: str = "",
    outcome: str = "",
    now: datetime | None = None,
) -> Visit:
    """The visitor checks out: time, fix (or "no location") and the duration, which also
    goes on the visit activity with the outcome. Checking out twice (a resend) returns
    the visit as it was checked out the first time."""
    # The visit row alone is locked (a join would be re-checked, and PostgreSQL refuses
    # FOR UPDATE on the nullable side of one); the activity is updated by its id.
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    if visit.owner_id != by.pk:
        raise PermissionDenied(_("Only the salesperson who checked in may check out."))
    if visit.checked_out_at is not None:
        return visit
    now = max(now or timezone.now(), visit.checked_in_at)
    visit.checked_out_at = now
    visit.check_out_status = _status_for(fix, status)
    if fix is not None:
        visit.check_out_latitude, visit.check_out_longitude = fix.latitude, fix.longitude
        visit.check_out_accuracy_m = fix.accuracy_m
        known = CustomerLocation.objects.filter(customer_id=visit.customer_id).first()
        if known is not None:
            visit.check_out_distance_m = distance_m(
                known.latitude, known.longitude, fix.latitude, fix.longitude
            )
    visit.duration_minutes = math.ceil((now - visit.checked_in_at).total_seconds() / 60)
    visit.save()
    if visit.activity_id is not None:
        fields = {"duration_minutes": min(visit.duration_minutes, 24 * 60)}
        if outcome.strip():
            fields["outcome"] = outcome.strip()
        Activity.objects.filter(pk=visit.activity_id).update(**fields)
    return visit


# --- Accompanied visits (陪同拜访) and coaching -------------------------------------------------------


def _join(visit: Visit, people: list[User], *, by: User, now: datetime) -> list[VisitCompanion]:
    """Add ``people`` as companions of ``visit`` (the caller holds the transaction).
    Each must be a candidate of the visitor (``selectors.companion_candidates``);
    people already on the visit are skipped, and the unique constraint settles a race."""
    if not people:
        return []
    allowed = set(
        selectors.companion_candidates(visit.owner)
        .filter(pk__in=[p.pk for p in people])
        .values_list("pk", flat=True)
    )
    if any(person.pk not in allowed for person in people):
        raise ValidationError(
            {
                "companions": _(
                    "A companion must be an active colleague of the salesperson's team or a manager over it."
                )
            }
        )
    return VisitCompanion.objects.bulk_create(
        [VisitCompanion(visit=visit, user=person, added_by=by, added_at=now) for person in people],
        ignore_conflicts=True,
    )


def _ensure_can_manage_companions(by: User, visit: Visit) -> Visit:
    visit = Visit.objects.select_related("owner").get(pk=visit.pk)
    if not permissions.can_manage_companions(by, visit):
        raise PermissionDenied(
            _("Only the salesperson who made the visit or their manager may change who went along.")
        )
    return visit


@transaction.atomic
def add_companion(*, by: User, visit: Visit, user: User) -> VisitCompanion:
    """``user`` went along on ``visit`` (陪同拜访): the salesperson's manager, or a teammate
    as mentor (老带新) — an active person of the visitor's team tree or a manager over
    it. Called by the visitor, their manager or an admin (others: ``PermissionDenied``).
    Idempotent: adding someone twice returns the first row. The companion then sees
    the visit on their "my day" and may write a coaching note."""
    visit = _ensure_can_manage_companions(by, visit)
    _join(visit, [user], by=by, now=timezone.now())
    return VisitCompanion.objects.get(visit=visit, user=user)


@transaction.atomic
def remove_companion(*, by: User, visit: Visit, user: User) -> None:
    """Take ``user`` off the visit's companions (a mistake), with their note; the visitor,
    their manager, an admin, or the companion themselves. Removing twice is harmless."""
    if by.pk != user.pk:
        visit = _ensure_can_manage_companions(by, visit)
    VisitCompanion.objects.filter(visit=visit, user=user).delete()


@transaction.atomic
def write_coaching_note(*, by: User, visit: Visit, note: str) -> VisitCompanion:
    """The companion ``by`` writes (or rewrites) their coaching note on ``visit``; nobody
    else may (``PermissionDenied``). The salesperson is told in the app. Saving the
    same note again changes nothing and tells nobody twice."""
    companion = VisitCompanion.objects.select_for_update().filter(visit=visit, user=by).first()
    if companion is None:
        raise PermissionDenied(_("Only a companion on this visit may write a coaching note on it."))
    note = (note or "").strip()
    if len(note) > COACHING_NOTE_MAX_LENGTH:
        raise ValidationError(
            {
                "coaching_note": _("A coaching note may be at most %(limit)s characters.")
                % {"limit": COACHING_NOTE_MAX_LENGTH}
            }
        )
    if note == companion.coaching_note:
        return companion
    companion.coaching_note, companion.noted_at = note, timezone.now()
    companion.save(update_fields=["coaching_note", "noted_at"])
    if note:
        visit = Visit.objects.select_related("owner", "customer").get(pk=visit.pk)
        crm_services.notify(
            recipients=[visit.owner],
            kind="coaching_note",
            title=_("%(name)s wrote a coaching note on your visit to %(customer)s")
            % {"name": by.display_name, "customer": visit.customer.name},
            body=note,
            url=reverse("activities:visit-detail", args=[visit.pk]) + "#companions",
        )
    return companion


# --- The customer's location -----------------------------------------------------------------


@transaction.atomic
def set_customer_location(*, by: User, customer: Customer, fix: Fix) -> CustomerLocation:
    """The owner or a manager sets or corrects where the customer is."""
    customer = services.visible_live_customer(by, customer)
    if not permissions.can_correct_location(by, customer):
        raise PermissionDenied(_("Only the customer's owner or a manager may correct its location."))
    location, _created = CustomerLocation.objects.update_or_create(
        customer=customer,
        defaults={
            "latitude": fix.latitude,
            "longitude": fix.longitude,
            "source": LocationSource.MANUAL,
            "set_by": by,
            "set_at": timezone.now(),
        },
    )
    return location


# --- Photos -------------------------------------------------------------------------------------

# A photo's multipart body carries the file plus a few small fields and boundaries.
UPLOAD_OVERHEAD_BYTES = 64 * 1024


def _too_large(size: int) -> ValidationError:
    limit = settings.VISIT_PHOTO_MAX_UPLOAD_BYTES
    return ValidationError(
        {
            "photo": _("This file is %(size)s MB; a photo may be at most %(limit)s MB.")
            % {"size": round(size / 1_048_576, 1), "limit": limit // 1_048_576}
        }
    )


def refuse_oversized_request(content_length: str | None) -> None:
    """Refuse a photo upload by the length its request declares (``CONTENT_LENGTH``),
    before anything reads the body (a CSRF check would parse all of it): a 30 MB file is
    turned away unread. Call it first thing in the view; ``attach_photo`` checks the
    file's own size again."""
    try:
        length = int(content_length or 0)
    except ValueError:
        length = 0
    if length > settings.VISIT_PHOTO_MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD_BYTES:
        raise _too_large(length)


def _resized_jpeg(upload) -> tuple[bytes, int, int]:
    """Open ``upload`` as an image (Pillow reads the header first, so a pixel bomb is
    refused before its pixels are decoded), upright it, fit it in
    ``VISIT_PHOTO_MAX_SIDE`` and re-encode it as JPEG under ``VISIT_PHOTO_MAX_STORED_BYTES``."""
    refused = _("This file is not a photo we can read (JPEG, PNG, WebP or GIF).")
    limit = round(settings.VISIT_PHOTO_MAX_PIXELS / 1e6)
    try:
        with warnings.catch_warnings():
            # Opening reads the header only; our own cap, below Pillow's warning, decides next.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(upload)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if image.format not in {"JPEG", "PNG", "WEBP", "GIF", "MPO"}:
                raise ValidationError({"photo": refused})
            width, height = image.size
            if width * height > settings.VISIT_PHOTO_MAX_PIXELS:
                raise ValidationError(
                    {
                        "photo": _("This photo has %(pixels)s megapixels; the most we take is %(limit)s.")
                        % {"pixels": round(width * height / 1e6), "limit": limit}
                    }
                )
            image.load()
    except Image.DecompressionBombError:  # Pillow's hard stop (twice its warning), from the header
        raise ValidationError(
            {
                "photo": _("This photo has more than %(limit)s megapixels; take it at a lower resolution.")
                % {"limit": limit}
            }
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning):
        raise ValidationError({"photo": refused}) from None
    image = ImageOps.exif_transpose(image).convert("RGB")
    image.thumbnail((settings.VISIT_PHOTO_MAX_SIDE, settings.VISIT_PHOTO_MAX_SIDE))
    for quality in (85, 75, 65, 55, 45):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality, optimize=True)
        if buffer.tell() <= settings.VISIT_PHOTO_MAX_STORED_BYTES:
            return buffer.getvalue(), image.width, image.height
    raise ValidationError({"photo": _("This photo is too detailed to store; take it again.")})


@transaction.atomic
def attach_photo(*, by: User, visit: Visit, upload) -> VisitPhoto:
    """The visitor adds a photo to their visit. The upload's size is checked before it is
    read; nothing is stored unless the image is valid."""
    if visit.owner_id != by.pk:
        raise PermissionDenied(_("Only the salesperson who made the visit may add photos to it."))
    if upload.size > settings.VISIT_PHOTO_MAX_UPLOAD_BYTES:
        raise _too_large(upload.size)
    if visit.photos.count() >= settings.VISIT_PHOTOS_PER_VISIT:
        raise ValidationError(
            {
                "photo": _("A visit holds at most %(count)s photos.")
                % {"count": settings.VISIT_PHOTOS_PER_VISIT}
            }
        )
    data, width, height = _resized_jpeg(upload)
    photo = VisitPhoto(visit=visit, uploaded_by=by, size_bytes=len(data))
    photo.image.save("photo.jpg", ContentFile(data), save=False)
    photo.width, photo.height = width, height
    photo.save()
    return photo
