"""Role expectations for the funnel routes (see ``config/tests/route_matrix.py``).

The objects come from ``crm.tests.routes.build_world``: a customer owned by
``salesperson`` at grade D, with an order and a grade change.
"""

from config.tests.route_matrix import (
    API,
    API_MANAGERS,
    API_OWNED,
    PAGE,
    PAGE_MANAGERS,
    PAGE_OWNED,
    Route,
    expect,
)
from funnel.tests.factories import grade

PAGE_OWNED_POST = expect(404, 302, salesperson=302, manager=302, admin=302)


def _customer(w):
    return {"pk": w.customer.pk}


ROUTES = [
    # --- Pages -----------------------------------------------------------------------
    Route("funnel:summary", PAGE),
    Route(
        "funnel:change-grade",
        PAGE_OWNED_POST,
        method="post",
        kwargs=_customer,
        mutates=True,
        data=lambda w: {"grade": grade("C").pk, "note": "Agrees with our offer"},
    ),
    # GET here; recording an order is tested per role in test_record_order.py.
    Route("funnel:record-order", PAGE_OWNED, kwargs=_customer),
    # --- API -------------------------------------------------------------------------
    Route(
        "customer-change-grade",
        API_OWNED,
        method="post",
        kwargs=_customer,
        mutates=True,
        data=lambda w: {"grade": grade("C").pk, "note": "Agrees with our offer"},
    ),
    Route("order-list", API),
    Route("order-detail", API_OWNED, kwargs=lambda w: {"pk": w.order.pk}),
    # Grades are configuration everyone reads (admins write: test_grades.py).
    Route("grade-list", API),
    Route("grade-detail", API, kwargs=lambda w: {"pk": grade("B").pk}),
    Route("gradechange-list", API),
    Route("gradechange-detail", API_OWNED, kwargs=lambda w: {"pk": w.grade_change.pk}),
]


# === Funnel management (issue 5): alerts, reassignment, handover, departure, pool, ===
# === conflicts, balance. Appended as one block; objects are built on first use.    ===


def _management(w):
    """Built once per world: an open alert and a handover task on ``w.customer`` (owned by
    ``salesperson``), a pool customer, and a conflict raised by ``teammate`` over it."""
    if not hasattr(w, "management"):
        from datetime import date

        from django.utils import timezone

        from crm.tests.factories import CustomerFactory
        from funnel.models import ConflictClaim, HandoverTask, Reassignment, StagnationAlert

        people, customer, now = w.personas, w.customer, timezone.now()
        record = Reassignment.objects.create(
            customer=customer,
            from_owner=people.teammate,
            to_owner=people.salesperson,
            by=people.manager,
            grade=customer.grade,
            reason="Territory change",
        )
        w.management = {
            "alert": StagnationAlert.objects.create(
                customer=customer,
                grade=customer.grade,
                owner=people.salesperson,
                grade_entered_at=customer.grade_entered_at,
                stagnant_from=now,
                raised_on=now.date(),
            ),
            "task": HandoverTask.objects.create(
                reassignment=record,
                customer=customer,
                owner=people.salesperson,
                kind="visit",
                description="Visit",
                due_on=now.date(),
            ),
            "pool_customer": CustomerFactory(owner=None, by=people.admin),
            "conflict": ConflictClaim.objects.create(
                customer=customer,
                claimant=people.teammate,
                holder=people.salesperson,
                claimed_as="Northwind",
                first_contact_on=date(2025, 1, 6),
                evidence="Met their buyer at the fair",
            ),
        }
    return w.management


def _m(key):
    return lambda w: {"pk": _management(w)[key].pk}


def _snooze(w):
    from datetime import timedelta

    from django.utils import timezone

    return {"until": (timezone.localdate() + timedelta(days=3)).isoformat(), "reason": "Buyer on leave"}


# Visible to both salespeople of a conflict, their manager and admins.
CONFLICT_SEEN = expect(404, 302, salesperson=200, teammate=200, manager=200, admin=200)
API_CONFLICT_SEEN = expect(404, 401, salesperson=200, teammate=200, manager=200, admin=200)
# Reassigning: managers over the owner and admins; the owner sees the customer but may not.
PAGE_REASSIGN = expect(404, 302, salesperson=403, manager=200, admin=200)
API_REASSIGN = expect(404, 401, salesperson=403, manager=200, admin=200)
# Claiming: everyone but admins (who assign instead); anyone may see the pool.
PAGE_CLAIM = expect(302, 302, admin=403)
API_CLAIM = expect(200, 401, admin=403)

ROUTES += [
    # --- Pages -----------------------------------------------------------------------
    Route("funnel:alert-list", PAGE),
    Route(
        "funnel:alert-snooze", PAGE_OWNED_POST, method="post", kwargs=_m("alert"), mutates=True, data=_snooze
    ),
    Route("funnel:customer-reassign", PAGE_REASSIGN, kwargs=_customer),
    Route(
        "funnel:customer-release",
        PAGE_OWNED_POST,
        method="post",
        kwargs=_customer,
        mutates=True,
        data=lambda w: {"reason": "No budget for two years"},
    ),
    Route("funnel:bulk-reassign", PAGE_MANAGERS),
    Route("funnel:handover-progress", PAGE_MANAGERS),
    Route("funnel:handover-tasks", PAGE),
    Route("funnel:handover-task-done", PAGE_OWNED_POST, method="post", kwargs=_m("task"), mutates=True),
    Route("funnel:departure-list", PAGE_MANAGERS),
    Route(
        "funnel:departure-wizard",
        expect(403, 302, manager=200, admin=200, other_manager=404),
        kwargs=lambda w: {"pk": w.personas.salesperson.pk},
    ),
    Route("funnel:pool-list", PAGE),
    Route("funnel:pool-detail", PAGE, kwargs=_m("pool_customer")),
    Route("funnel:pool-claim", PAGE_CLAIM, method="post", kwargs=_m("pool_customer"), mutates=True),
    Route("funnel:conflict-list", PAGE),
    Route("funnel:conflict-create", expect(200, 302, admin=403)),
    Route("funnel:conflict-detail", CONFLICT_SEEN, kwargs=_m("conflict")),
    Route("funnel:balance", PAGE_MANAGERS),
    # --- API -------------------------------------------------------------------------
    Route("alert-list", API),
    Route("alert-detail", API_OWNED, kwargs=_m("alert")),
    Route("alert-snooze", API_OWNED, method="post", kwargs=_m("alert"), mutates=True, data=_snooze),
    Route("handovertask-list", API),
    Route("handovertask-detail", API_OWNED, kwargs=_m("task")),
    Route("handovertask-done", API_OWNED, method="post", kwargs=_m("task"), mutates=True),
    Route("pool-list", API),
    Route("pool-detail", API, kwargs=_m("pool_customer")),
    Route("conflict-list", API),
    Route("conflict-detail", API_CONFLICT_SEEN, kwargs=_m("conflict")),
    Route(
        "conflict-settle",
        expect(404, 401, salesperson=403, teammate=403, manager=200, admin=200),
        method="post",
        kwargs=_m("conflict"),
        mutates=True,
        data=lambda w: {"outcome": "kept"},
    ),
    Route(
        "customer-reassign",
        API_REASSIGN,
        method="post",
        kwargs=_customer,
        mutates=True,
        data=lambda w: {"owner": w.personas.teammate.pk, "reason": "Territory change"},
    ),
    # Another team's manager names an owner they cannot see: 400 on the owner field.
    Route(
        "customer-bulk-reassign",
        expect(403, 401, manager=200, admin=200, other_manager=400),
        method="post",
        mutates=True,
        data=lambda w: {
            "customers": [w.customer.pk],
            "owner": w.personas.teammate.pk,
            "reason": "Territory change",
        },
    ),
    Route("customer-claim", API_CLAIM, method="post", kwargs=_m("pool_customer"), mutates=True),
    Route(
        "customer-release",
        API_OWNED,
        method="post",
        kwargs=_customer,
        mutates=True,
        data=lambda w: {"reason": "No budget for two years"},
    ),
    Route("report-balance", API_MANAGERS),
]
