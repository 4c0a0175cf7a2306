"""Navigation by role, shared by every page."""
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# (label, url name, roles that see it). Later apps add their pages here.
NAVIGATION = [
    (_("My day"), "home", {"salesperson", "manager", "admin"}),
    (_("Customers"), "crm:customer-list", {"salesperson", "manager", "admin"}),
    (_("Funnel"), "funnel:summary", {"salesperson", "manager", "admin"}),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    current = request.resolver_match.view_name if request.resolver_match else None
    current_app = request.resolver_match.namespace if request.resolver_match else None
    items = [
        {"label": label, "url": reverse(name), "active": name == current or name.split(":")[0] == current_app}
        for label, name, roles in NAVIGATION
        if user.role in roles
    ]
    return {"nav_items": items}
