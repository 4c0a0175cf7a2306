from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from core.models import Grade
from crm.forms import BootstrapMixin, PlainSelect, TelInput
from crm.models import Customer, User

from . import permissions, selectors
from .models import ConflictStatus


class ChangeGradeForm(BootstrapMixin, forms.Form):
    """``expected_grade`` carries the grade the user saw, so a move made meanwhile by
    someone else is reported as a conflict instead of applied on top of it."""

    grade = forms.ModelChoiceField(queryset=Grade.objects.all(), label=_("New grade"), widget=PlainSelect)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the customer is lost: say why."),
    )
    expected_grade = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        if customer is not None:
            self.initial.setdefault("expected_grade", customer.grade_id)
            # Offered: the other grades. Accepted: any, so a grade that changed since the
            # page was shown gets the service's clear answer, not "not a valid choice".
            if not self.is_bound:
                self.fields["grade"].queryset = Grade.objects.exclude(pk=customer.grade_id)


class OrderForm(BootstrapMixin, forms.Form):
    amount = forms.DecimalField(label=_("Amount (CNY)"), min_value=0, max_digits=14, decimal_places=2)
    gross_profit = forms.DecimalField(
        label=_("Gross profit (CNY)"), max_digits=14, decimal_places=2, required=False, initial=0
    )
    signed_on = forms.DateField(label=_("Signed on"), widget=forms.DateInput(attrs={"type": "date"}))
    collected_amount = forms.DecimalField(
        label=_("Collected so far (CNY)"),
        min_value=0,
        max_digits=14,
        decimal_places=2,
        required=False,
        initial=0,
    )
    collected_on = forms.DateField(
        label=_("Collected on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def clean(self):
        data = super().clean()
        data["gross_profit"] = data.get("gross_profit") or 0
        data["collected_amount"] = data.get("collected_amount") or 0
        return data


# --- Funnel management ------------------------------------------------------------------


def _person_label(name: str, team_name: str | None) -> str:
    """How a person is offered as an owner: "Li Na (East)"."""
    return f"{name} ({team_name})" if team_name else name


def _label_of(person) -> str:
    return _person_label(person.display_name, person.team.name if person.team_id else None)


class PersonChoiceIterator(ModelChoiceIterator):
    """The options from one narrow query: a user and a team built per option cost an
    admin's customer page (some 200 people) milliseconds."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for pk, first_name, last_name, username, team_name in self.queryset.values_list(
            "pk", "first_name", "last_name", "username", "team__name"
        ):
            yield (pk, _person_label(User.name_from(first_name, last_name, username), team_name))


class OwnerChoiceField(forms.ModelChoiceField):
    """One new owner among up to every active user: options read and written in Python."""

    widget = PlainSelect
    iterator = PersonChoiceIterator


class OwnersChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return _label_of(obj)


class ReassignForm(BootstrapMixin, forms.Form):
    """改派 one customer. ``expected_owner`` carries the owner the user saw, so a move
    made meanwhile by someone else is reported as a conflict instead of overwritten."""

    owner = OwnerChoiceField(queryset=User.objects.none(), label=_("New owner"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded in the customer's history and sent to the new owner."),
    )
    force = forms.BooleanField(
        label=_("Force past the locked grade (admins)"),
        required=False,
        help_text=_("The reason above is recorded as the written justification."),
    )
    expected_owner = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, owners, may_force: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        if not may_force:
            del self.fields["force"]

    @classmethod
    def for_customer(cls, user: User, customer: Customer, data=None) -> "ReassignForm":
        """The form as ``user`` sees it for ``customer``: their colleagues but the owner."""
        return cls(
            data,
            owners=selectors.assignable_owners(user).exclude(pk=customer.owner_id),
            may_force=permissions.can_force(user),
            initial={"expected_owner": customer.owner_id},
        )


class BulkReassignForm(ReassignForm):
    """改派 many: the customers ticked in the list (among those the user may see)."""

    customers = forms.ModelMultipleChoiceField(
        queryset=Customer.objects.none(), label=_("Customers"), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customers"].queryset = customers
        del self.fields["expected_owner"]


class ReleaseForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why does it go back to the pool?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class SnoozeAlertForm(BootstrapMixin, forms.Form):
    """Snooze a stagnation alert: the rules (a reason, a day within the limit) are the service's."""

    until = forms.DateField(label=_("Snooze until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Why can it wait?"), max_length=300)


class DepartureTeammatesForm(BootstrapMixin, forms.Form):
    teammates = OwnersChoiceField(
        queryset=User.objects.none(),
        label=_("Teammates who take over"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The customers are split evenly across them, grade by grade."),
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teammates"].queryset = candidates


class DepartureForm(BootstrapMixin, forms.Form):
    """One new-owner choice per customer of the leaver (pre-filled with the proposal)."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        required=False,
        help_text=_('Recorded on every reassignment; by default "Departure of …".'),
    )
    force = forms.BooleanField(label=_("Force customers at locked grades (admins)"), required=False)

    def __init__(self, *args, customers, teammates, proposal, may_force: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.customers = customers
        self.teammates = teammates
        self.people = {str(person.pk): person for person in teammates}
        # One choice list shared by every row: no query per customer.
        choices = [("", "---------")] + [(pk, _label_of(person)) for pk, person in self.people.items()]
        for customer in customers:
            proposed = proposal.get(customer.pk)
            # Added after BootstrapMixin styled the declared fields: styled here.
            self.fields[self.field_name(customer)] = forms.ChoiceField(
                choices=choices,
                label=customer.name,
                initial=str(proposed.pk) if proposed else "",
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
        if not may_force:
            del self.fields["force"]

    @staticmethod
    def field_name(customer) -> str:
        return f"owner_{customer.pk}"

    def clean(self):
        data = super().clean()
        if data.get("force") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Forcing past a locked grade needs a written reason."))
        return data

    def assignments(self) -> dict[int, User]:
        """Customer id → the new owner chosen on its row; rows without a valid choice are
        left out (after a refusal the summary still shows what was chosen)."""
        data = getattr(self, "cleaned_data", {})
        chosen = ((customer.pk, data.get(self.field_name(customer))) for customer in self.customers)
        return {pk: self.people[value] for pk, value in chosen if value in self.people}

    def rows(self):
        return [(customer, self[self.field_name(customer)]) for customer in self.customers]


class ConflictForm(BootstrapMixin, forms.Form):
    name = forms.CharField(
        label=_("Customer name"),
        max_length=200,
        required=False,
        help_text=_("As you tried to register it (or give its phone or e-mail)."),
    )
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False, widget=TelInput())
    email = forms.EmailField(label=_("E-mail"), required=False)
    first_contact_on = forms.DateField(
        label=_("Your first contact"), widget=forms.DateInput(attrs={"type": "date"})
    )
    evidence = forms.CharField(
        label=_("Evidence"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Who you spoke to, when, what was agreed; references to e-mails or visits."),
    )


class SettleForm(BootstrapMixin, forms.Form):
    outcome = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[
            (ConflictStatus.KEPT, _("Keep: the current owner keeps the customer")),
            (ConflictStatus.TRANSFERRED, _("Transfer: reassign the customer to the claimant")),
            (ConflictStatus.SHARED, _("Share: add the claimant's information to the customer as a note")),
        ],
    )
    note = forms.CharField(
        label=_("Note to both salespeople"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    force = forms.BooleanField(label=_("Force past a locked grade (admins)"), required=False)

    def __init__(self, *args, may_force: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_force:
            del self.fields["force"]


class SinceForm(forms.Form):
    since = forms.DateField(
        label=_("Handovers since"),
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "class": "form-control form-control-sm"}, format="%Y-%m-%d"
        ),
    )
