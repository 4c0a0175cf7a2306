"""Navigation by role and the notification bell, shared by every page."""
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
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
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    current = request.resolver_match.view_name if request.resolver_match else None
    current_app = request.resolver_match.namespace if request.resolver_match else None
    visible = [(label, name) for label, name, roles in NAVIGATION if user.role in roles]
    # A page that is not itself a nav item lights up its app's item, when the app has only one.
    per_app: dict[str, int] = {}
    for _label, name in visible:
        per_app[name.split(":")[0]] = per_app.get(name.split(":")[0], 0) + 1
    items = [
        {"label": label, "url": reverse(name),
         "active": name == current or (name.split(":")[0] == current_app and per_app[current_app] == 1)}
        for label, name in visible
    ]
    return {"nav_items": items}


def notifications(request):
    """The bell's unread count: one COUNT on the partial index of unread notifications,
    run only when a page actually shows it (htmx fragments never do)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(
        lambda: Notification.objects.unread().filter(recipient=user).count(),
    )}
