"""The installable app: web app manifest, service worker, offline page and favicon.

The service worker (source: ``static/js/sw.js``) is served from the site root so that
its scope is the whole site. Its configuration (version, app shell, which pages keep an
offline copy) is written into the script here, so the browser sees a new worker — and
drops the old caches — whenever a file of the app shell or the worker itself changes.

Everything here is public (``login_not_required``): the browser fetches the worker and
the manifest without asking, also on the login page, and the offline page is shown when
no page can be reached. Only the offline "log a call" form (``offline_log_form``) needs a
signed-in user: it lists the company's objection catalog.
"""

import hashlib
import json
import re
from functools import cache

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from activities.forms import ActivityForm, quick_follow_up_dates
from crm.models import Customer

SW_SOURCE = "js/sw.js"
SW_CONFIG_PLACEHOLDER = "__SW_CONFIG__"
THEME_COLOR = "#212529"  # the navbar's background (bg-dark)
BACKGROUND_COLOR = "#f8f9fa"

# The app shell: cached when the worker installs, so every offline copy of a page looks
# like the page (styles, navigation, the scripts that queue what is logged offline).
SHELL_STATIC = [
    "vendor/bootstrap/bootstrap.min.css",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "vendor/htmx/htmx.min.js",
    "css/app.css",
    "js/app.js",
    "js/activities.js",
    "js/visits.js",
    "js/offline.js",
    "icons/icon-192.png",
    "icons/favicon-32.png",
]

# Pages that keep an offline copy of their last visit: my day, the customer pages the
# salesperson opened, and the forms used in the field. Any other page answers with the
# offline page when the network is down.
OFFLINE_PAGES = ["home", "crm:customer-detail", "activities:log-activity", "activities:visit-check-in"]
# Of those, the pages fetched ahead when a page links to them (at most hourly): a check-in
# linked from my day's plan is ready before the salesperson reaches a basement car park.
WARM_PAGES = ["activities:visit-check-in"]
# A URL argument no real page uses: replaced by "any id" in the patterns.
_ANY_ID = 987654321


def _pattern(url_name: str) -> str | None:
    """A JavaScript-compatible regular expression for the paths of ``url_name``."""
    try:
        path = reverse(url_name)
    except NoReverseMatch:
        try:
            path = reverse(url_name, args=[_ANY_ID])
        except NoReverseMatch:  # a page another part of the app has not added (yet)
            return None
    return "^" + re.escape(path).replace(str(_ANY_ID), r"\d+") + "$"


def _file_digest(path: str) -> str:
    with open(finders.find(path), "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _worker_source() -> str:
    found = finders.find(SW_SOURCE)
    if not found:
        raise Http404("service worker source missing")
    with open(found, encoding="utf-8") as handle:
        return handle.read()


def _build_worker() -> str:
    source = _worker_source()
    # Only files that exist: one missing file would fail the whole install.
    present = [path for path in SHELL_STATIC if finders.find(path)]
    shell = [static(path) for path in present]
    pages = [pattern for pattern in map(_pattern, OFFLINE_PAGES) if pattern]
    digest = hashlib.sha256(source.encode())
    for path, url in zip(present, shell, strict=True):
        digest.update(f"{url}:{_file_digest(path)}".encode())
    warm = [pattern for pattern in map(_pattern, WARM_PAGES) if pattern]
    digest.update(json.dumps([pages, warm]).encode())
    config = {
        "version": digest.hexdigest()[:16],
        "shell": shell,
        "offlineUrl": reverse("pwa-offline"),
        "logFormUrl": reverse("pwa-offline-log-form"),
        "logFormPattern": _pattern("activities:log-activity"),
        "pages": pages,
        "warm": warm,
        "maxWarm": 20,
        # The prefix itself, not static(""): the manifest storage has no entry for "".
        "staticPrefix": settings.STATIC_URL,
        "apiPrefix": reverse("api-root"),
        "maxPages": 60,
    }
    return source.replace(SW_CONFIG_PLACEHOLDER, json.dumps(config), 1)


@cache
def _cached_worker() -> str:
    return _build_worker()


@login_not_required
@require_GET
def service_worker(request):
    """``/sw.js``: the service worker, with its configuration and version written in."""
    body = _build_worker() if settings.DEBUG else _cached_worker()
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    # Always revalidated: a new version must reach the phone at its next visit.
    response["Cache-Control"] = "no-cache"
    return response


@login_not_required
@require_GET
def manifest(request):
    """``/manifest.webmanifest``: what "add to home screen" needs to install the app."""
    home = reverse("home")
    return JsonResponse(
        {
            "id": home,
            "name": "Funnel CRM",
            "short_name": "Funnel",
            "description": _("Your customers, your funnel and your day's calls and visits."),
            "lang": request.LANGUAGE_CODE,
            "start_url": home,
            "scope": home,
            "display": "standalone",
            "orientation": "any",
            "theme_color": THEME_COLOR,
            "background_color": BACKGROUND_COLOR,
            "icons": [
                {
                    "src": static("icons/icon-192.png"),
                    "sizes": "192x192",
                    "type": "image/png",
                    "purpose": "any maskable",
                },
                {
                    "src": static("icons/icon-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "any maskable",
                },
            ],
        },
        content_type="application/manifest+json",
    )


@login_not_required
@require_GET
def offline(request):
    """``/offline/``: shown by the service worker for a page that has no offline copy.
    The same for everyone (it is cached once), so it shows no user's data: the queue of
    what waits to be sent is read from the phone by ``offline.js``."""
    return render(request, "offline.html", {"user": AnonymousUser(), "offline_page": True})


@require_GET
def offline_log_form(request):
    """The short "log call / visit" form of a "my day" row, for any customer: the service
    worker answers with it when the row's own form cannot be loaded offline, and puts
    the customer, row, channel and purpose of the request into its placeholders. Saving
    it queues the activity on the phone (``offline.js``), to be sent to the API."""
    placeholder = Customer(pk=0, name="")
    form = ActivityForm(customer=placeholder, initial={"effective": False, "contact": None})
    return render(
        request,
        "activities/_offline_log_form.html",
        {
            "form": form,
            "api_url": reverse("activity-list"),
            # A phone that cannot queue it (no IndexedDB) posts it to the row's own page instead.
            "log_url": reverse("activities:log-activity", args=[_ANY_ID]).replace(
                str(_ANY_ID), "__CUSTOMER__"
            ),
            "quick_dates": [
                (label, (day - timezone.localdate()).days)
                for label, day in quick_follow_up_dates(timezone.localdate())
            ],
        },
    )


@login_not_required
@require_GET
def favicon(request):
    """``/favicon.ico`` for pages without our ``<link rel="icon">`` (the Django admin)."""
    found = finders.find("icons/favicon.ico")
    if not found:
        raise Http404
    with open(found, "rb") as handle:
        response = HttpResponse(handle.read(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
