"""Idempotent writes over the API: a device that logs a call or checks in offline sends a
key it made itself (a UUID) with every attempt, so a resend finds the first row
instead of writing a second one.

The key comes in the ``Idempotency-Key`` header or the body's ``client_key`` field (the
same value when both are sent). The services store it and settle a race with a unique
constraint per person and key; the views answer 201 for a new row and 200 with the
existing row for a resend. In front of them, the API's own layer (``config/idempotency.py``)
answers a resend with the header by replaying the first answer (201, marked
``Idempotent-Replayed: true``); the key stored here also covers the body's ``client_key``,
page forms, and a resend after the API layer forgot the key (a day later).
"""

import uuid

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

HEADER = "Idempotency-Key"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.UUID,
    OpenApiParameter.HEADER,
    required=False,
    description="A UUID made on the device for this write (or send it as `client_key`). Sending the "
    "same request with the key again answers with the first answer (header `Idempotent-Replayed: true`), "
    "or 200 with the row the key made, instead of writing a second one.",
)


def _as_uuid(value, field: str) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise ValidationError({field: [_("Send a UUID as the idempotency key.")]}) from None


def client_key(request) -> uuid.UUID | None:
    """The request's idempotency key: the ``Idempotency-Key`` header's, else the body's
    ``client_key``. One that is no UUID, or a header and a body that disagree, is bad
    input (400 on that field): guessing would risk a duplicate or a lost write."""
    body = request.data.get("client_key") if hasattr(request.data, "get") else None
    header_key = _as_uuid(request.headers.get(HEADER, ""), HEADER)
    body_key = _as_uuid(body, "client_key")
    if header_key is not None and body_key is not None and header_key != body_key:
        raise ValidationError({"client_key": [_("This key differs from the Idempotency-Key header.")]})
    return header_key or body_key
