"""One-time tokens on page forms: a form sent twice (a double click, a resubmitted
page) saves once (issue 17).

``static/js/app.js`` gives every ``<form method="post">`` a hidden ``form_token`` (a
random UUID) when the page loads, when htmx swaps a form in, after each htmx answer
and when the page comes back from the back/forward cache; htmx requests also send it
as ``X-Form-Token``. This middleware claims the token of a signed-in user's POST
outside ``/api/`` (the API has ``Idempotency-Key``: ``config/idempotency.py``) with
one atomic ``cache.add``, after the CSRF and sign-in checks. A second POST with the
same token runs nothing: it goes back to the page it came from (the Referer, when it
is this site; else home) with a message (303), or, from htmx, gets 409 with the message.

Forms without a token (no JavaScript, the admin) work as before; so does the login
form (no user yet). A POST answered with a server error lets its token go, so the
same form can be sent again. The cache is Redis in production (shared by every web
process); when it cannot be reached, the check is skipped: pages keep working.
A multipart body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (a photo) is not parsed
here to find its field (its view refuses oversized uploads before reading them): the
``X-Form-Token`` header counts there.
"""

import logging
import re

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from crm.ratelimit import CACHE_ERRORS

log = logging.getLogger(__name__)

FIELD = "form_token"
HEADER = "X-Form-Token"
TOKEN = re.compile(r"[0-9A-Za-z-]{16,64}")


class FormTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        claimed = getattr(request, "form_token_claim", None)
        if claimed is not None and response.status_code >= 500:
            _forget(claimed)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (
            request.method != "POST"
            or request.path_info.startswith("/api/")
            or not request.user.is_authenticated
        ):
            return None
        token = _token(request)
        if not TOKEN.fullmatch(token):
            return None
        claim = f"form-token:{request.user.pk}:{token}"
        try:
            first = cache.add(claim, 1, timeout=settings.FORM_TOKEN_SECONDS)
        except CACHE_ERRORS as error:
            log.warning("Form token not checked, the cache is unreachable: %s", error)
            return None
        if first:
            request.form_token_claim = claim
            return None
        message = _("This form was already sent; nothing was saved twice.")
        if request.headers.get("HX-Request"):
            return HttpResponse(message, status=409, content_type="text/plain; charset=utf-8")
        messages.warning(request, message)
        response = HttpResponseRedirect(_back(request))
        response.status_code = 303
        return response


def _token(request) -> str:
    token = request.headers.get(HEADER, "")
    if token:
        return token
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if request.content_type == "multipart/form-data" and length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return ""
    return request.POST.get(FIELD, "")


def _back(request) -> str:
    """The page the form was on, when it is one of this site's; else home."""
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return reverse("home")


def _forget(claimed: str) -> None:
    try:
        cache.delete(claimed)
    except CACHE_ERRORS as error:
        log.warning("Form token %s kept, the cache is unreachable: %s", claimed, error)
