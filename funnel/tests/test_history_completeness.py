"""History completeness, as a property: whatever sequence of creations, grade moves,
reassignments, pool releases and claims, archives, restores and merges the services
run, replaying a customer's grade history (``GradeChange`` rows) and owner history
(``Reassignment`` rows) from the grade and owner it was created with reproduces its
current grade and owner, and its field history (django-simple-history) tells the same
story. The reports' funnel at a past date and start-of-period counts rely on exactly
this replay. A refused call changes nothing.

A merge leaves both chains whole: the survivor keeps its own grade and owner history
(its grade and owner do not move), and the merged-away customer keeps its own, archived
with a link to the survivor. Re-pointing the merged-away customer's history rows to the
survivor would interleave two chains that no longer replay.

Each hypothesis example runs in its own transaction, rolled back at its end.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from core.models import Grade
from crm import services as crm_services
from crm.models import Customer
from funnel.models import GradeChange, Reassignment
from funnel.services import (
    ReassignConflict,
    change_grade,
    claim_customer,
    reassign_customer,
    release_customer,
)
from funnel.tests.builders import customer_at, ensure_default_handover_steps, funnel_settings
from funnel.tests.factories import grade

SALESPEOPLE = ("salesperson", "teammate", "sub_salesperson", "other_salesperson")
REVIEWERS = ("manager", "other_manager", "admin")
GRADE_CODES = ("E", "D", "C", "B", "A", "WON", "LOST")

owners = st.sampled_from((*SALESPEOPLE, None))
salespeople = st.sampled_from(SALESPEOPLE)
reviewers = st.sampled_from(REVIEWERS)
grade_codes = st.sampled_from(GRADE_CODES)


def _runs(values: list) -> list:
    """``values`` without consecutive repeats: the successive states a field went through."""
    return [value for index, value in enumerate(values) if index == 0 or value != values[index - 1]]


def assert_history_replays(customer: Customer) -> None:
    """Replay the grade and owner chains from the creation record to the current row."""
    trail = list(
        customer.history.order_by("history_date", "history_id").values_list(
            "history_type", "grade_id", "owner_id"
        )
    )
    assert trail[0][0] == "+", f"{customer}: the field history does not start at its creation"
    created_grade, created_owner = trail[0][1], trail[0][2]
    for label, rows, source, target, start, current, recorded in (
        (
            "grade",
            GradeChange.objects.filter(customer=customer).order_by("changed_at", "pk"),
            "from_grade_id",
            "to_grade_id",
            created_grade,
            customer.grade_id,
            [g for _t, g, _o in trail],
        ),
        (
            "owner",
            Reassignment.objects.filter(customer=customer).order_by("at", "pk"),
            "from_owner_id",
            "to_owner_id",
            created_owner,
            customer.owner_id,
            [o for _t, _g, o in trail],
        ),
    ):
        chain = [start]
        for row in rows.values(source, target):
            assert row[source] == chain[-1], f"{customer}: {label} history jumps: {chain} then {row}"
            chain.append(row[target])
        assert chain[-1] == current, f"{customer}: {label} history {chain} does not end at {current}"
        assert _runs(recorded) == chain, f"{customer}: field history {recorded} ≠ {label} history {chain}"


class CustomerHistoryMachine(RuleBasedStateMachine):
    """Drives the real services as managers and admins; customers are held by id and
    re-read before every call, as a view would."""

    customers = Bundle("customers")

    def __init__(self, personas):
        super().__init__()
        self.personas = personas
        self.grades = {grade.code: grade for grade in Grade.objects.all()}
        self.created = 0
        self.example = transaction.atomic()
        self.example.__enter__()

    def teardown(self):
        transaction.set_rollback(True)
        self.example.__exit__(None, None, None)

    def user(self, role):
        return None if role is None else self.personas.user(role)

    @staticmethod
    def chains(pk: int) -> tuple[list[int], list[int]]:
        """The ids of the customer's grade-history and owner-history rows."""
        return (
            list(GradeChange.objects.filter(customer_id=pk).order_by("pk").values_list("pk", flat=True)),
            list(Reassignment.objects.filter(customer_id=pk).order_by("pk").values_list("pk", flat=True)),
        )

    def snapshot(self, *pks: int) -> list:
        """What a refused call must leave untouched: the rows and all their history."""
        return [
            (
                Customer.objects.values_list("grade_id", "owner_id", "archived_at").get(pk=pk),
                self.chains(pk),
                Customer.history.filter(id=pk).count(),
            )
            for pk in pks
        ]

    def attempt(
        self,
        service,
        refusals: tuple[type[Exception], ...],
        *,
        by: str,
        customers: dict[str, int],
        **arguments,
    ) -> bool:
        """Call ``service`` as ``by`` with the ``customers`` (argument → id) freshly read;
        a refusal (one of ``refusals``) must leave them and their history untouched."""
        before = self.snapshot(*customers.values())
        rows = {argument: Customer.objects.get(pk=pk) for argument, pk in customers.items()}
        try:
            service(by=self.user(by), **rows, **arguments)
        except refusals:
            assert self.snapshot(*customers.values()) == before, "a refused call changed something"
            return False
        return True

    @rule(target=customers, owner=owners, code=grade_codes)
    def create(self, owner, code):
        self.created += 1
        customer = crm_services.create_customer(
            by=self.personas.admin,
            owner=self.user(owner),
            grade=self.grades[code],
            name=f"Account {self.created}",
        )
        return customer.pk

    @rule(pk=customers, code=grade_codes, by=reviewers)
    def move_grade(self, pk, code, by):
        self.attempt(
            change_grade,
            (ValidationError,),
            by=by,
            customers={"customer": pk},
            grade=self.grades[code],
            note="Property step",
        )

    @rule(pk=customers, new_owner=salespeople, by=reviewers, force=st.booleans())
    def reassign(self, pk, new_owner, by, force):
        # Each call re-reads the owner first, so a ReassignConflict here would be a bug.
        self.attempt(
            reassign_customer,
            (ValidationError, PermissionDenied),
            by=by,
            customers={"customer": pk},
            new_owner=self.user(new_owner),
            reason="Step",
            force=force,
        )

    @rule(pk=customers, by=reviewers)
    def release(self, pk, by):
        self.attempt(
            release_customer,
            (ValidationError, PermissionDenied, ReassignConflict),
            by=by,
            customers={"customer": pk},
            reason="Property step",
        )

    @rule(pk=customers, by=salespeople)
    def claim(self, pk, by):
        self.attempt(
            claim_customer,
            (ValidationError, PermissionDenied, ReassignConflict),
            by=by,
            customers={"customer": pk},
        )

    @rule(pk=customers, by=reviewers)
    def archive(self, pk, by):
        self.attempt(crm_services.archive_customer, (), by=by, customers={"customer": pk}, reason="Step")
        assert Customer.objects.get(pk=pk).is_archived

    @rule(pk=customers, by=reviewers)
    def restore(self, pk, by):
        self.attempt(crm_services.restore_customer, (ValidationError,), by=by, customers={"customer": pk})

    @rule(keep=customers, merge=customers, by=reviewers)
    def merge(self, keep, merge, by):
        (kept, kept_chains, _), (gone, gone_chains, _) = self.snapshot(keep, merge)
        if self.attempt(
            crm_services.merge_customers, (ValidationError,), by=by, customers={"keep": keep, "merge": merge}
        ):
            # The survivor keeps its grade, owner and history rows; the merged-away
            # customer keeps its own, archived with a link to the survivor.
            (kept_now, kept_chains_now, _), (gone_now, gone_chains_now, _) = self.snapshot(keep, merge)
            assert (kept_now, kept_chains_now) == (kept, kept_chains)
            assert (gone_now[:2], gone_chains_now) == (gone[:2], gone_chains)
            assert Customer.objects.get(pk=merge).merged_into_id == keep

    @invariant()
    def every_history_replays_to_the_current_row(self):
        for customer in Customer.objects.all():
            assert_history_replays(customer)


@pytest.mark.slow  # 20 generated histories of 20 steps, every step a write
def test_replaying_the_history_reproduces_every_customers_grade_and_owner(personas):
    ensure_default_handover_steps()
    run_state_machine_as_test(
        lambda: CustomerHistoryMachine(personas),
        # Bounded (about 20 s on PostgreSQL); every step writes to the database, hence no deadline.
        settings=settings(
            max_examples=20,
            stateful_step_count=20,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_a_merge_leaves_both_histories_replayable(personas):
    funnel_settings(grade_skip_rule=False)  # builds its case with grade skips
    """Regression: the merge used to re-point the merged-away customer's grade and owner
    history to the survivor, whose history then no longer replayed to its grade."""
    keep = customer_at("E", personas.salesperson, name="Keep Ltd")
    gone = customer_at("E", personas.teammate, name="Gone Ltd")
    change_grade(customer=gone, grade=grade("C"), by=personas.manager)
    reassign_customer(customer=gone, new_owner=personas.sub_salesperson, by=personas.manager, reason="Split")

    crm_services.merge_customers(keep=keep, merge=gone, by=personas.manager)

    for customer in (keep, gone):
        customer.refresh_from_db()
        assert_history_replays(customer)
    assert (keep.grade.code, keep.owner, keep.grade_changes.count(), keep.reassignments.count()) == (
        "E",
        personas.salesperson,
        0,
        0,
    )
    assert (gone.grade_changes.count(), gone.reassignments.count(), gone.merged_into) == (1, 1, keep)
