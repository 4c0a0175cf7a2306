"""Navigation by role and the notification bell, shared by every page.

Every page shows the same links, so they are reversed (and the navigation's labels
translated) once per role, language and URL configuration, not on every request."""

from collections import Counter
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext_lazy as _

from crm.models import Notification

# (label, url name, roles that see it). Later apps add their pages here.
NAVIGATION = [
    (_("My day"), "home", {"salesperson", "manager", "admin"}),
    (_("Customers"), "crm:customer-list", {"salesperson", "manager", "admin"}),
    (_("Pool"), "funnel:pool-list", {"salesperson", "manager", "admin"}),
    (_("Plans & reports"), "activities:plans", {"salesperson", "manager", "admin"}),
    (_("Funnel"), "reports:funnel", {"salesperson", "manager", "admin"}),
    (_("Reports"), "reports:index", {"salesperson", "manager", "admin"}),
    (_("Team"), "funnel:balance", {"manager", "admin"}),
    (_("Handover"), "funnel:handover-progress", {"manager", "admin"}),
    (_("Approvals"), "activities:approvals", {"manager", "admin"}),
    (_("Team day"), "activities:team-day", {"manager", "admin"}),
    (_("Meetings"), "reports:meetings", {"manager", "admin"}),
]

# The base template's other links (``site_urls.<key>``): brand, bell, user menu, language switch.
SITE_URLS = {
    "home": "home",
    "admin": "admin:index",
    "notifications": "activities:notifications",
    "security": "account-security",
    "password_change": "password_change",
    "logout": "logout",
    "set_language": "set_language",
    "manifest": "pwa-manifest",
    "service_worker": "pwa-service-worker",
    "quick_search": "crm:quick-search",
    "calendar_feed": "activities:calendar-feed",
}


def navigation(request):
    """The role's navigation items (the current page's lit), the base template's links and
    the language switch's choices (code, name in that language)."""
    # What the links depend on, as the caches' key; reverse() reads the same from the request.
    where = (get_language(), get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    context = {
        "site_urls": _site_urls(*where),
        "language_choices": _language_choices(tuple(code for code, _name in settings.LANGUAGES)),
    }
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {**context, "nav_items": []}
    current = request.resolver_match.view_name if request.resolver_match else None
    current_app = request.resolver_match.namespace if request.resolver_match else None
    links, per_app = _nav_links(user.role, *where)
    # A page that is not itself a nav item lights up its app's item, when the app has only one.
    items = [
        {
            "label": label,
            "url": url,
            "active": name == current or (app == current_app and per_app[current_app] == 1),
        }
        for label, url, name, app in links
    ]
    return {**context, "nav_items": items}


@lru_cache(maxsize=64)
def _nav_links(role: str, language: str, script_prefix: str, urlconf: str) -> tuple[list, Counter]:
    """(label, url, url name, app) of the items ``role`` sees, and the number of items per app."""
    links = [
        (str(label), reverse(name), name, name.split(":")[0])
        for label, name, roles in NAVIGATION
        if role in roles
    ]
    return links, Counter(app for _label, _url, _name, app in links)


@lru_cache(maxsize=16)
def _site_urls(language: str, script_prefix: str, urlconf: str) -> dict[str, str]:
    return {key: reverse(name) for key, name in SITE_URLS.items()}


@lru_cache(maxsize=4)
def _language_choices(codes: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(code, get_language_info(code)["name_local"]) for code in codes]


def notifications(request):
    """The bell's unread count: one COUNT on the partial index of unread notifications,
    run only when a page actually shows it (htmx fragments never do)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": SimpleLazyObject(
            lambda: Notification.objects.unread().filter(recipient=user).count(),
        )
    }
