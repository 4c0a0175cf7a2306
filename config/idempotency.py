"""``Idempotency-Key`` on every API POST: a resend gets the first answer (issue 17).

A client that may send a write twice (a retry after a timeout, the offline queue, a
script) sends a key it made (1–255 visible ASCII characters; a UUID, say) in the
``Idempotency-Key`` header. For the same user and key:

* the same method, path and body, answered before → that answer again (status, body,
  content type) with ``Idempotent-Replayed: true``; the view does not run;
* the same key with another request → 422;
* the first request still running → 409 with ``Retry-After: 1``;
* else the view runs, and its answer is kept for ``IDEMPOTENCY_KEY_HOURS``.

PUT, PATCH and DELETE are idempotent by their nature and GETs write nothing: only
POSTs are looked at. The domain keys of logged activities and check-ins
(``activities/api/idempotency.py``, unique per person in the database) stay under this
layer: they also settle page forms and the body's ``client_key``.

**Where.** One Django middleware, last in ``MIDDLEWARE``, in ``process_view``: the one
spot every API view passes through that knows which view will answer (so its
authenticators) and may answer instead of it, after every other check has run. A
base class for all viewsets would do too, but each new view would have to remember it.
The caller is authenticated by DRF (token or session) inside the view, so here the
view's own authenticators are asked first, in their order — the user the view will
see; an anonymous call or a bad token goes on unclaimed, and the view answers 401. A
session's CSRF check is left to the view (it would parse the body here): a post
failing it is answered 403, which lets its claim go.

**The claim** is an INSERT committed on its own (``ATOMIC_REQUESTS`` is off) before the
view runs: two resends racing meet at the unique (user, key) index, where one waits
for the other's commit and then finds its row. The answer is kept unless it says
nothing ran or a retry may well be answered otherwise (5xx, 401, 403, 408, 409, 429):
then the claim is deleted and a retry runs. A claim still unanswered after
``IDEMPOTENCY_ABANDONED_SECONDS`` (its worker was killed) is taken over by a resend.

**The body** is fingerprinted before the view reads it: up to
``DATA_UPLOAD_MAX_MEMORY_SIZE`` through ``request.body`` (Django keeps it for the
view), a multipart upload up to ``IDEMPOTENCY_MAX_UPLOAD_BYTES`` streamed through a
temporary file; a larger body goes on unclaimed to its view, which refuses it by its
size. A multipart body's boundary is left out of the fingerprint: a client sending the
same form again draws a new one.

A view whose answer holds a secret that must not be stored (a new calendar feed
address) sets ``idempotent_replay = False``: the key is ignored there.
"""

import hashlib
import logging
import re
from datetime import timedelta
from tempfile import SpooledTemporaryFile

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.views import APIView

from .models import IdempotentRequest

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = "[!-~]{1,255}"  # visible ASCII, 0x21–0x7E
# Answers that say nothing ran, or that a retry may well be answered otherwise: not kept.
NOT_KEPT = frozenset({401, 403, 408, 409, 429})
CHUNK_BYTES = 64 * 1024


def serves(view_func) -> bool:
    """Whether this view's POSTs honour the key: a DRF view that authenticates its caller
    (not the token login) and whose answers may be stored."""
    view_class = getattr(view_func, "cls", None)
    return (
        view_class is not None
        and issubclass(view_class, APIView)
        and bool(_authentication_classes(view_func))
        and getattr(view_class, "idempotent_replay", True)
    )


def _authentication_classes(view_func) -> list:
    """The view's authenticators (an ``@action`` may set its own)."""
    initkwargs = getattr(view_func, "initkwargs", {})
    return initkwargs.get("authentication_classes", view_func.cls.authentication_classes)


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        claim = getattr(request, "idempotency_claim", None)
        if claim is not None:
            _settle(claim, response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or HEADER not in request.headers or not serves(view_func):
            return None
        user = _caller(request, view_func)
        if user is None:
            return None
        key = request.headers[HEADER]
        if not re.fullmatch(KEY_PATTERN, key):
            return JsonResponse(
                {HEADER: [_("Send 1 to 255 visible ASCII characters (a UUID, say) as the Idempotency-Key.")]},
                status=400,
            )
        body_sha256 = _body_sha256(request)
        if body_sha256 is None:
            return None
        claim, answer = _claim(
            user=user, key=key, method=request.method, path=request.get_full_path(), body_sha256=body_sha256
        )
        request.idempotency_claim = claim
        return answer


def _caller(request, view_func):
    """The user the view will see, or None: the first of its authenticators that knows
    the caller (a token), where a session authenticator stands for the signed-in session
    (``request.user``). The session's CSRF check stays the view's: a post failing it is
    answered 403, which lets its claim go."""
    drf_request = Request(request)
    for authenticator in _authentication_classes(view_func):
        if issubclass(authenticator, SessionAuthentication):
            if request.user.is_authenticated and request.user.is_active:
                return request.user
            continue
        try:
            found = authenticator().authenticate(drf_request)
        except exceptions.APIException:
            return None  # a bad or expired token: the view answers 401
        if found is not None:
            return found[0]
    return None


class _BodyDigest:
    """SHA-256 of a body fed in chunks, leaving out each ``delimiter`` (a multipart
    boundary), also one split between two chunks."""

    def __init__(self, delimiter: bytes = b""):
        self.delimiter, self.pending, self.sha = delimiter, b"", hashlib.sha256()

    def update(self, chunk: bytes) -> None:
        if not self.delimiter:
            self.sha.update(chunk)
            return
        *whole, tail = (self.pending + chunk).split(self.delimiter)
        for part in whole:
            self.sha.update(part)
        keep = len(self.delimiter) - 1  # the start of a delimiter that the next chunk ends
        self.sha.update(tail[:-keep])
        self.pending = tail[-keep:]

    def hexdigest(self) -> str:
        self.sha.update(self.pending)
        self.pending = b""
        return self.sha.hexdigest()


def _body_sha256(request) -> str | None:
    """The body's fingerprint, leaving it readable for the view; None for a body too
    large to read here (or already read by someone else)."""
    content_type, params = parse_header_parameters(request.META.get("CONTENT_TYPE", ""))
    multipart = content_type == "multipart/form-data"
    boundary = params.get("boundary", "") if multipart else ""
    digest = _BodyDigest(f"--{boundary}".encode("latin-1", "replace") if boundary else b"")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    try:
        if length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            digest.update(request.body)  # kept by the request: the view parses it from there
            return digest.hexdigest()
    except RawPostDataException:
        return None
    if not multipart or length > settings.IDEMPOTENCY_MAX_UPLOAD_BYTES or request._read_started:
        return None
    # Closed (and its file deleted) with the request, which holds the only reference.
    spool = SpooledTemporaryFile(max_size=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
    while chunk := request.read(CHUNK_BYTES):
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    # Django reads a request's stream once: the view (its multipart parser) reads this copy.
    request._stream, request._read_started = spool, False
    return digest.hexdigest()


def _claim(*, user, key: str, method: str, path: str, body_sha256: str):
    """``(claim, None)`` when this request may run (the claim is committed), else
    ``(None, answer)``: the replayed first answer, a 422 or a 409."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotentRequest.objects.create(
                    user=user, key=key, method=method, path=path, body_sha256=body_sha256
                ), None
        except IntegrityError:
            pass  # claimed before: its row is committed (the unique index waited for it)
        first = IdempotentRequest.objects.filter(user=user, key=key).first()
        if first is None:
            continue  # its request failed and let the key go meanwhile: claim it again
        if (first.method, first.path, first.body_sha256) != (method, path, body_sha256):
            return None, _refusal(422, _("This Idempotency-Key was used with another request."))
        if first.completed_at is not None:
            return None, _replay(first)
        abandoned = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_ABANDONED_SECONDS)
        if first.created_at < abandoned and IdempotentRequest.objects.filter(
            pk=first.pk,
            completed_at__isnull=True,
            created_at=first.created_at,
        ).update(created_at=timezone.now()):
            return first, None  # its request died unanswered: this one runs instead
        break
    still_running = _("A request with this Idempotency-Key is still running; try again in a moment.")
    return None, _refusal(409, still_running, retry_after=1)


def _refusal(status: int, detail: str, *, retry_after: int | None = None) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _replay(first: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(
        bytes(first.response_body), status=first.status_code, content_type=first.content_type or None
    )
    response[REPLAYED_HEADER] = "true"
    response["Cache-Control"] = "no-store"  # the caller's data, as the first answer was
    return response


def _settle(claim: IdempotentRequest, response) -> None:
    """Keep the answer for resends, or let the key go when nothing may have run."""
    status = response.status_code
    try:
        if status >= 500 or status in NOT_KEPT or response.streaming:
            IdempotentRequest.objects.filter(pk=claim.pk).delete()
            return
        IdempotentRequest.objects.filter(pk=claim.pk).update(
            status_code=status,
            response_body=response.content,
            content_type=response.get("Content-Type", ""),
            completed_at=timezone.now(),
        )
    except DatabaseError as error:
        # The client still gets the view's answer; a resend waits (409) until the claim is abandoned.
        log.warning("Idempotency-Key %s of user %s not settled: %s", claim.key, claim.user_id, error)
