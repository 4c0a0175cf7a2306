"""The grades: the method's defaults from the data migration, and the configuration rules
(range, won 100 %, lost 0 %, open grades rising strictly down the funnel) in the
model, the Django admin and the API."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import F
from django.forms import CheckboxInput
from django.urls import reverse

from core.models import Grade, GradeKind, SecurityAction, SecurityEvent
from crm.tests.factories import CustomerFactory
from funnel.tests.factories import ensure_default_grades, grade


def test_the_data_migration_creates_the_methods_default_grades(db):
    ensure_default_grades()  # a no-op unless a transactional test emptied the table

    rows = list(
        Grade.objects.order_by("order").values_list(
            "code", "kind", "probability", "stagnation_days", "locked", "requires_decision_maker"
        )
    )

    assert rows == [
        ("E", GradeKind.OPEN, Decimal(10), 30, False, False),
        ("D", GradeKind.OPEN, Decimal(20), 21, False, False),
        ("C", GradeKind.OPEN, Decimal(40), 21, False, True),
        ("B", GradeKind.OPEN, Decimal(60), 14, True, True),
        ("A", GradeKind.OPEN, Decimal(80), 14, False, True),
        ("WON", GradeKind.WON, Decimal(100), None, False, False),
        ("LOST", GradeKind.LOST, Decimal(0), None, False, False),
    ]


def test_the_default_grades_carry_both_languages_and_a_playbook(db):
    for code in ("E", "D", "C", "B", "A", "WON", "LOST"):
        default = grade(code)
        assert default.name and default.name_zh
        assert default.playbook and default.playbook_zh
    assert grade("C").name_zh == "认同客户"
    assert grade("B").name_zh == "意向客户"


def _cleaned(code: str, **changes) -> None:
    candidate = grade(code)
    for field, value in changes.items():
        setattr(candidate, field, value)
    candidate.full_clean()


@pytest.mark.parametrize(
    ("code", "changes", "message"),
    [
        ("C", {"probability": Decimal(120)}, "less than or equal to 100"),
        ("C", {"probability": Decimal(-1)}, "greater than or equal to 0"),
        ("WON", {"probability": Decimal(90)}, "The won grade has a probability of 100 %."),
        ("LOST", {"probability": Decimal(5)}, "The lost grade has a probability of 0 %."),
        # C must lie strictly between D (20 %) and B (60 %).
        ("C", {"probability": Decimal(15)}, "D has 20"),
        ("C", {"probability": Decimal(20)}, "D has 20"),
        ("C", {"probability": Decimal(60)}, "B has 60"),
        ("E", {"probability": Decimal(25)}, "D has 20"),
    ],
)
def test_bad_grade_probabilities_are_refused_on_the_probability_field(db, code, changes, message):
    with pytest.raises(ValidationError) as raised:
        _cleaned(code, **changes)

    assert set(raised.value.message_dict) == {"probability"}
    assert message in " ".join(raised.value.message_dict["probability"])


def test_grade_clean_itself_refuses_a_probability_of_120(db):
    candidate = grade("C")
    candidate.probability = Decimal(120)

    with pytest.raises(ValidationError) as raised:
        candidate.clean()

    assert raised.value.message_dict == {"probability": ["Probability must be between 0 and 100."]}


@pytest.mark.parametrize(
    ("code", "probability"),
    [
        ("C", Decimal(21)),
        ("C", Decimal(59)),
        ("A", Decimal(99)),
    ],
)
def test_probabilities_that_keep_the_order_are_accepted(db, code, probability):
    _cleaned(code, probability=probability)


def test_a_new_grade_must_fit_between_its_neighbours(db):
    # given: room for a grade between D (20 %) and C (40 %)
    Grade.objects.filter(order__gte=3).update(order=F("order") + 10)

    # then 30 % fits, 45 % (above C) does not
    Grade(code="D+", name="Interested", order=3, kind=GradeKind.OPEN, probability=Decimal(30)).full_clean()
    with pytest.raises(ValidationError) as raised:
        Grade(
            code="D+", name="Interested", order=3, kind=GradeKind.OPEN, probability=Decimal(45)
        ).full_clean()
    assert "C has 40" in raised.value.message_dict["probability"][0]


# --- The Django admin --------------------------------------------------------------------


def _admin_form_data(client, target: Grade, **changes) -> dict:
    """What the admin's change page would post unchanged (the grade's form and its inline
    formsets, as rendered), with ``changes`` applied to the grade's fields."""
    page = client.get(reverse("admin:core_grade_change", args=[target.pk]))
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for bound in form:
            value = bound.value()
            if isinstance(bound.field.widget, CheckboxInput):
                if value:
                    data[bound.html_name] = "on"
            else:
                data[bound.html_name] = "" if value is None else value
    return {**data, **changes}


@pytest.mark.parametrize(
    ("probability", "message"),
    [
        ("120", "Ensure this value is less than or equal to 100."),
        ("15", "Probabilities must rise strictly down the funnel: D has 20.00 %."),
    ],
)
def test_the_admin_grade_form_shows_the_error_and_saves_nothing(personas, client_as, probability, message):
    target = grade("C")
    client = client_as("admin")

    response = client.post(
        reverse("admin:core_grade_change", args=[target.pk]),
        _admin_form_data(client, target, probability=probability),
    )

    assert response.status_code == 200  # the admin re-displays its form with the errors
    assert message in response.context["adminform"].form.errors["probability"]
    assert message in response.content.decode()
    target.refresh_from_db()
    assert target.probability == Decimal(40)


def test_the_admin_saves_a_good_change_and_re_times_stagnation(personas, client_as):
    target = grade("C")
    customer = CustomerFactory(owner=personas.salesperson, grade=target)
    client = client_as("admin")

    response = client.post(
        reverse("admin:core_grade_change", args=[target.pk]),
        _admin_form_data(client, target, probability="45", stagnation_days="30"),
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.probability, target.stagnation_days) == (Decimal(45), 30)
    customer.refresh_from_db()
    assert customer.stagnant_from > customer.grade_entered_at
    assert target.history.first().history_user == personas.admin


# --- The API -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"probability": "120"}, "probability"),
        ({"probability": "15"}, "probability"),
        ({"kind": "maybe"}, "kind"),
        # Found by the API fuzz test: SQLite stored it, then the stagnation clock crashed (500).
        ({"stagnation_days": 10**16}, "stagnation_days"),
    ],
)
def test_the_api_refuses_bad_grade_changes_with_the_field_key(personas, client_as, changes, field):
    target = grade("C")

    response = client_as("admin").patch(
        reverse("grade-detail", args=[target.pk]), changes, content_type="application/json"
    )

    assert response.status_code == 400
    assert set(response.json()) == {field}
    target.refresh_from_db()
    assert target.probability == Decimal(40)


def test_only_an_admin_configures_grades(personas, client_as):
    target = grade("C")

    refused = client_as("manager").patch(
        reverse("grade-detail", args=[target.pk]), {"probability": "45"}, content_type="application/json"
    )
    accepted = client_as("admin").patch(
        reverse("grade-detail", args=[target.pk]), {"probability": "45"}, content_type="application/json"
    )

    assert (refused.status_code, accepted.status_code) == (403, 200)
    target.refresh_from_db()
    assert target.probability == Decimal(45)


def test_a_grade_in_use_cannot_be_deleted(personas, client_as):
    CustomerFactory(owner=personas.salesperson, grade=grade("E"))

    response = client_as("admin").delete(reverse("grade-detail", args=[grade("E").pk]))

    assert response.status_code == 400
    assert Grade.objects.filter(code="E").exists()


def test_deleting_an_unused_grade_in_the_api_is_audited(personas, client_as):
    unused = grade("A")

    response = client_as("admin").delete(reverse("grade-detail", args=[unused.pk]))

    assert response.status_code == 204
    assert not Grade.objects.filter(pk=unused.pk).exists()
    event = SecurityEvent.objects.get(action=SecurityAction.GRADE_CONFIG)
    assert (event.actor, event.object_id) == (personas.admin, str(unused.pk))
    assert event.detail["change"] == "deleted"


def test_everyone_reads_the_grades_in_funnel_order(personas, client_as):
    body = client_as("salesperson").get(reverse("grade-list")).json()

    assert [row["code"] for row in body] == ["E", "D", "C", "B", "A", "WON", "LOST"]
    assert [row["probability"] for row in body[:5]] == ["10.00", "20.00", "40.00", "60.00", "80.00"]
