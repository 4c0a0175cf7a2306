"""Role expectations for the crm routes (see ``config/tests/route_matrix.py``).

The world holds a customer owned by ``salesperson`` (team East) with a contact, an
order and a grade change, and an archived customer of theirs (for restore). It is built
once per test module (a write route's changes are undone after each role), and the
browser tests build it again, so nothing in it may clash with the duplicate check (names
come from a sequence). Only the owner, the East manager (team tree) and the admin see
them; everyone else gets 404.
"""

from datetime import date
from decimal import Decimal

from config.tests.route_matrix import API, API_OWNED, PAGE, PAGE_OWNED, Route, expect
from crm import services
from crm.tests.factories import ContactFactory, CustomerFactory, OrderFactory
from funnel.services import change_grade
from funnel.tests.factories import grade

# A write on the salesperson's customer: allowed roles are redirected back, others get 404.
PAGE_OWNED_POST = expect(404, 302, salesperson=302, manager=302, admin=302)
# Restore: only managers and admins; the owner sees the customer but is refused.
PAGE_RESTORE = expect(404, 302, salesperson=403, manager=302, admin=302)
API_RESTORE = expect(404, 401, salesperson=403, manager=200, admin=200)
# Export: salespeople are refused unless the admin allows it; a manager of another team
# gets an (empty) export of their own team.
PAGE_EXPORT = expect(403, 302, manager=200, other_manager=200, admin=200)
# Merge: managers and admins; another team's manager cannot see the customer.
PAGE_MERGE = expect(403, 302, manager=200, admin=200, other_manager=404)


def build_world(world) -> None:
    salesperson = world.personas.salesperson
    world.customer = CustomerFactory(
        owner=salesperson, grade=grade("E"), expected_value=Decimal(5_000_000), industry="Steel"
    )
    world.contact = ContactFactory(customer=world.customer, role="decision_maker")
    world.order = OrderFactory(
        customer=world.customer, amount=Decimal("250000.00"), signed_on=date(2025, 3, 1)
    )
    world.lifecycle_change = world.customer.lifecycle_changes.get()  # the order's move to first purchase
    world.grade_change = change_grade(
        customer=world.customer, grade=grade("D"), by=salesperson, note="Visited, met the buyer"
    )
    world.archived_customer = services.archive_customer(
        customer=CustomerFactory(owner=salesperson),
        by=salesperson,
        reason="Closed down",
    )


def _customer(w):
    return {"pk": w.customer.pk}


ROUTES = [
    # --- Pages -----------------------------------------------------------------------
    Route("crm:customer-list", PAGE),
    Route("crm:customer-export", PAGE_EXPORT, query="?file_format=csv"),
    # GET here; creating for another owner is refused per role in test_customer_create.py.
    Route("crm:customer-create", PAGE),
    Route("crm:customer-detail", PAGE_OWNED, kwargs=_customer),
    Route("crm:customer-update", PAGE_OWNED, kwargs=_customer),
    Route(
        "crm:customer-archive",
        PAGE_OWNED_POST,
        method="post",
        kwargs=_customer,
        mutates=True,
        data=lambda w: {"reason": "Duplicate entry"},
    ),
    Route(
        "crm:customer-restore",
        PAGE_RESTORE,
        method="post",
        mutates=True,
        kwargs=lambda w: {"pk": w.archived_customer.pk},
    ),
    Route(
        "crm:customer-probability",
        PAGE_OWNED_POST,
        method="post",
        kwargs=_customer,
        mutates=True,
        data=lambda w: {"probability": "35", "reason": "Budget approved early"},
    ),
    Route("crm:customer-merge", PAGE_MERGE, kwargs=_customer),
    Route("crm:contact-create", PAGE_OWNED, kwargs=_customer),
    Route(
        "crm:contact-update", PAGE_OWNED, kwargs=lambda w: {"pk": w.customer.pk, "contact_pk": w.contact.pk}
    ),
    # The quick search answers everyone signed in, with only what each may see.
    Route("crm:quick-search", PAGE, query="?q=Customer"),
    # Bulk tier change: everyone signed in goes back to the list; only visible customers change.
    Route(
        "crm:customer-bulk-tier",
        expect(302, 302),
        method="post",
        mutates=True,
        data=lambda w: {"customer": [w.customer.pk], "tier": "priority"},
    ),
    # --- API -------------------------------------------------------------------------
    Route("customer-list", API),
    Route("customer-detail", API_OWNED, kwargs=_customer),
    Route(
        "customer-restore",
        API_RESTORE,
        method="post",
        mutates=True,
        kwargs=lambda w: {"pk": w.archived_customer.pk},
    ),
    Route(
        "customer-probability-override",
        API_OWNED,
        method="post",
        kwargs=_customer,
        mutates=True,
        data=lambda w: {"probability": "35", "reason": "Budget approved early"},
    ),
    Route("lifecyclechange-list", API),
    Route("lifecyclechange-detail", API_OWNED, kwargs=lambda w: {"pk": w.lifecycle_change.pk}),
    Route("contact-list", API),
    Route("contact-detail", API_OWNED, kwargs=lambda w: {"pk": w.contact.pk}),
    Route("quick-search", API, query="?q=Customer"),
    Route(
        "customer-bulk-tier",
        API,
        method="post",
        mutates=True,
        data=lambda w: {"customers": [w.customer.pk], "tier": "priority"},
    ),
]
