"""Forms validate shape; the services in ``services.py`` apply the rules."""

import uuid
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from crm.forms import BootstrapMixin
from crm.models import Contact, Customer, KeyPersonRole, User

from .models import (
    Activity,
    ActivityKind,
    CallStage,
    DailyReport,
    LocationStatus,
    MarketReport,
    Objection,
    PlanItem,
    PlanItemKind,
    Purpose,
)
from .selectors import default_purpose
from .services import REPORT_EDITABLE_FIELDS, confirming_call_day
from .visits import COACHING_NOTE_MAX_LENGTH, Fix


class ObjectionSelect(forms.Select):
    """Each option carries its suggested answer (``data-answer``), shown by
    ``static/js/activities.js`` as soon as the objection is picked (no inline script)."""

    def __init__(self, *args, answers: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.answers = answers or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        answer = self.answers.get(str(value))
        if answer:
            option["attrs"]["data-answer"] = answer
        return option


class ContactSelect(forms.Select):
    """Options of key persons carry ``data-key-person``: picking one ticks "effective"."""

    def __init__(self, *args, key_people: set[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_people = key_people or set()

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value) in self.key_people:
            option["attrs"]["data-key-person"] = "1"
        return option


def quick_follow_up_dates(today) -> list[tuple[str, object]]:
    """The quick picks next to "next follow-up": tomorrow, in three days, next week."""
    return [
        (_("Tomorrow"), today + timedelta(days=1)),
        (_("+3 days"), today + timedelta(days=3)),
        (_("Next week"), today + timedelta(days=7)),
    ]


class ActivityForm(BootstrapMixin, forms.ModelForm):
    """Log an activity for one customer. The short form on "my day" shows only the
    essentials; what it leaves out takes its default (now, no duration, no expense)."""

    started_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."),
    )
    # activities.js unticks and disables "effective" while the stage is below connected.
    call_stage = forms.TypedChoiceField(
        label=_("How far did the call get?"),
        choices=CallStage.choices,
        coerce=int,
        required=False,
        empty_value=None,
        initial=CallStage.CONNECTED,
        widget=forms.Select(attrs={"data-call-stage-select": "", "data-connected-from": CallStage.CONNECTED}),
    )
    effective = forms.BooleanField(
        label=_("Effective (reached a key person with a clear purpose)"),
        required=False,
        widget=forms.CheckboxInput(attrs={"data-effective": ""}),
        help_text=_("Never for a call that was only dialled: nobody was reached."),
    )
    # One key per form shown (a UUID, made here or on the phone by offline.js): a double
    # tap, or a resend of what was queued offline, logs the activity once.
    client_key = forms.UUIDField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Activity
        fields = [
            "kind",
            "purpose",
            "contact",
            "started_at",
            "duration_minutes",
            "call_stage",
            "outcome",
            "effective",
            "objection",
            "proposal_sent",
            "next_follow_up_on",
            "competitor_news",
            "expense",
        ]
        widgets = {
            "outcome": forms.Textarea(attrs={"rows": 2}),
            "competitor_news": forms.Textarea(attrs={"rows": 2}),
            "next_follow_up_on": forms.DateInput(
                attrs={"type": "date", "data-follow-up": ""}, format="%Y-%m-%d"
            ),
            "contact": ContactSelect(attrs={"data-contact-select": ""}),
            "objection": ObjectionSelect(attrs={"data-objection-select": ""}),
            "kind": forms.Select(attrs={"data-kind-select": ""}),
            "proposal_sent": forms.CheckboxInput(attrs={"data-proposal-sent": ""}),
        }
        help_texts = {"next_follow_up_on": _("Required for calls: agree the next contact.")}
        labels = {"proposal_sent": _("A proposal or quotation went with it")}

    def __init__(self, *args, customer: Customer, **kwargs):
        self.customer = customer
        super().__init__(*args, **kwargs)
        contacts = list(Contact.objects.filter(customer=customer).order_by("name"))
        objections = list(Objection.objects.active().order_by("order", "pk"))
        self.fields["duration_minutes"].required = False
        self.fields["expense"].required = False
        # Explicit choices from the lists above: the widgets render without another query.
        contact_field = self.fields["contact"]
        contact_field.queryset = Contact.objects.filter(customer=customer)
        contact_field.choices = [("", "—"), *((c.pk, f"{c.name} · {c.get_role_display()}") for c in contacts)]
        contact_field.widget.key_people = {str(c.pk) for c in contacts if c.is_key_person}
        objection_field = self.fields["objection"]
        objection_field.queryset = Objection.objects.active()
        objection_field.choices = [("", "—"), *((o.pk, o.display_name) for o in objections)]
        objection_field.widget.answers = {str(o.pk): o.display_answer for o in objections}
        if not self.is_bound:
            key_people = [c for c in contacts if c.is_key_person]
            key_people.sort(key=lambda c: c.role != KeyPersonRole.DECISION_MAKER)
            first = key_people[0] if key_people else None
            self.initial.setdefault("contact", first.pk if first else None)
            self.initial.setdefault("effective", first is not None)
            self.initial.setdefault("purpose", default_purpose(customer))
            self.initial.setdefault("client_key", uuid.uuid4())
        self.confirming_call_on = confirming_call_day(timezone.localdate())
        self.fields["proposal_sent"].help_text = _(
            "A fax, or an e-mail with a proposal, is confirmed by phone: leave the next follow-up "
            "empty and a confirming call is set for %(date)s, the next working day."
        ) % {"date": f"{date_format(self.confirming_call_on, 'D')} {date_format(self.confirming_call_on)}"}
        if not self.reached:
            # Shown as the service will store it (an unticked box is not sent).
            self.fields["effective"].disabled = True
            self.initial["effective"] = False

    @property
    def is_not_call(self) -> bool:
        """Hide the call stage until the channel is a call (activities.js toggles it)."""
        return self["kind"].value() != ActivityKind.CALL

    @property
    def reached(self) -> bool:
        """False for a call that was only dialled: it can never be effective."""
        if self.is_not_call:
            return True
        try:
            return int(self["call_stage"].value() or CallStage.CONNECTED) >= CallStage.CONNECTED
        except (TypeError, ValueError):
            return True

    @property
    def selected_objection_answer(self) -> str:
        value = str(self["objection"].value() or "")
        return self.fields["objection"].widget.answers.get(value, "")

    def clean_started_at(self):
        return self.cleaned_data.get("started_at") or timezone.now()

    def clean(self):
        data = super().clean()
        if data.get("kind") == ActivityKind.CALL:
            if not data.get("next_follow_up_on") and "next_follow_up_on" not in self.errors:
                self.add_error(
                    "next_follow_up_on", _("Agree the next contact: every call needs a next follow-up date.")
                )
            if data.get("call_stage") in (None, ""):
                data["call_stage"] = CallStage.CONNECTED
            if data["call_stage"] < CallStage.CONNECTED:
                data["effective"] = False
        else:
            data["call_stage"] = None
        data["duration_minutes"] = data.get("duration_minutes") or 0
        data["expense"] = data.get("expense") or 0
        return data

    def service_kwargs(self) -> dict:
        return {
            **{name: self.cleaned_data[name] for name in self.Meta.fields},
            "client_key": self.cleaned_data.get("client_key"),
        }


class PlanItemForm(BootstrapMixin, forms.ModelForm):
    """A customer on the plan: only customers the salesperson may see are offered."""

    class Meta:
        model = PlanItem
        fields = ["customer", "kind", "starts_at", "ends_at", "area", "purpose", "note"]
        widgets = {
            "starts_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "ends_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        # Chosen in the searchable picker (``selectors.plan_picker``), never rendered as a
        # select of every customer: the queryset only validates the choice.
        self.fields["customer"].queryset = customers
        self.fields["kind"].initial = PlanItemKind.VISIT
        self.fields["area"].help_text = _("Leave empty to use the customer's region.")
        purpose = self.fields["purpose"]
        purpose.required = False
        purpose.choices = [("", _("By the customer's grade")), *Purpose.choices]

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("The time slot must end after it starts."))
        if not data.get("purpose") and data.get("customer"):
            data["purpose"] = default_purpose(data["customer"])
        return data


class CustomerIdsField(forms.Field):
    """Repeated ``customer`` ids (a selection of the customer list, or one row's button)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Choose at least one customer."),
        "invalid": _("Unknown customer."),
    }

    def to_python(self, value) -> list[int]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        try:
            return [int(item) for item in values if str(item).strip()]
        except (TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class PlanAddForm(forms.Form):
    """Customers for the user's plan of a day (tomorrow unless ``day`` says otherwise)."""

    customer = CustomerIdsField()
    day = forms.DateField(required=False)
    kind = forms.ChoiceField(choices=PlanItemKind.choices, required=False)


class ReviewForm(forms.Form):
    """Approve / sign off (comment optional) or return (comment required)."""

    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class DailyReportForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = DailyReport
        fields = list(REPORT_EDITABLE_FIELDS)
        widgets = {
            "competitor_info": forms.Textarea(attrs={"rows": 3}),
            "customer_feedback": forms.Textarea(attrs={"rows": 3}),
            "lessons": forms.Textarea(attrs={"rows": 3}),
        }


class MarketReportForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = MarketReport
        fields = ["kind", "customer", "title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["customer"].required = False


class DateForm(forms.Form):
    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )


# --- Field visits (外勤签到) --------------------------------------------------------------------


class LocationFields(forms.Form):
    """The browser's position, filled in by ``static/js/visits.js``: latitude, longitude,
    accuracy and what happened (``location_status``). Hidden; without JavaScript they
    stay empty and the visit is saved as "no location". ``cleaned_data["fix"]`` is the
    parsed ``visits.Fix`` (or ``None``)."""

    latitude = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    accuracy = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    location_status = forms.CharField(
        required=False, max_length=12, widget=forms.HiddenInput, initial=LocationStatus.UNAVAILABLE
    )

    def clean(self):
        data = super().clean()
        try:
            data["fix"] = Fix.parse(data.get("latitude"), data.get("longitude"), data.get("accuracy"))
        except ValidationError as error:
            self.add_error(None, error)
        return data

    @property
    def hidden_field_errors(self) -> list[str]:
        """Errors of the hidden fields (a bad position from the phone), shown above the form."""
        return [error for field in self.hidden_fields() for error in field.errors]


class CheckInForm(BootstrapMixin, LocationFields):
    """Check in at a customer. The field names are the check-in API's JSON names: the
    offline queue (``data-offline-queue``) posts the same fields there."""

    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    plan_item = forms.ModelChoiceField(
        label=_("Plan item"),
        queryset=PlanItem.objects.none(),
        required=False,
        empty_label=_("— not planned —"),
    )
    set_location = forms.BooleanField(
        label=_("This is the customer's location"),
        required=False,
        widget=forms.CheckboxInput(attrs={"value": "true"}),
        help_text=_("The customer's location is not known yet: tick this when you are at their door."),
    )
    # Offline the queue leaves them out (a list does not fit its JSON of single values):
    # they are added on the visit's page once it is sent.
    companions = forms.ModelMultipleChoiceField(
        label=_("Who came along"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"data-offline-skip": ""}),
        help_text=_(
            "Your manager, or a colleague as mentor: they see the visit on their day and may "
            "write you a coaching note."
        ),
    )
    client_key = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args,
        customer: Customer,
        plan_items: list[PlanItem],
        chosen_item: str = "",
        companions: list[User] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.customer = customer
        set_people_choices(self.fields["companions"], companions)
        field = self.fields["plan_item"]
        field.queryset = PlanItem.objects.filter(pk__in=[item.pk for item in plan_items])
        # Explicit choices from the list: the select renders without another query.
        field.choices = [("", field.empty_label), *((item.pk, _plan_item_label(item)) for item in plan_items)]
        if not self.is_bound:
            # The item asked for (my day's "Check in"), else the first open visit of the day.
            item = next((i for i in plan_items if str(i.pk) == chosen_item), None) or next(
                (i for i in plan_items if i.kind == PlanItemKind.VISIT and not i.done), None
            )
            self.initial.update(
                customer=customer.pk,
                plan_item=item.pk if item else None,
                purpose=item.purpose if item else default_purpose(customer),
                client_key=uuid.uuid4(),
            )

    def clean_customer(self):
        customer = self.cleaned_data["customer"]
        if customer is not None and customer != self.customer.pk:
            raise ValidationError(_("This check-in form belongs to another customer; open it again."))
        return customer

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "fix": data["fix"],
            "status": data["location_status"],
            "purpose": data["purpose"],
            "plan_item": data["plan_item"],
            "set_location": data["set_location"],
            "client_key": data["client_key"],
            "companions": list(data["companions"]),
        }


def set_people_choices(field: forms.ModelChoiceField, people: list[User]) -> None:
    """Offer ``people`` (read once by the view) without another query to render them."""
    field.queryset = User.objects.filter(pk__in=[person.pk for person in people])
    choices = [(person.pk, person.display_name) for person in people]
    field.choices = choices if isinstance(field, forms.ModelMultipleChoiceField) else [("", "—"), *choices]


class CompanionForm(BootstrapMixin, forms.Form):
    """Add someone who went along on the visit (the service checks they may)."""

    user = forms.ModelChoiceField(label=_("Add a companion"), queryset=User.objects.none())

    def __init__(self, *args, candidates: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        set_people_choices(self.fields["user"], candidates)


class CoachingNoteForm(BootstrapMixin, forms.Form):
    coaching_note = forms.CharField(
        label=_("Your coaching note"),
        required=False,
        max_length=COACHING_NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What went well, what to do differently next time: the salesperson reads it."),
    )


def _plan_item_label(item: PlanItem) -> str:
    slot = item.starts_at.strftime("%H:%M") if item.starts_at else ""
    parts = [slot, item.get_kind_display(), item.get_purpose_display()]
    return " · ".join(str(part) for part in parts if part)


class CheckOutForm(BootstrapMixin, LocationFields):
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was agreed; it goes on the visit in the timeline."),
    )


class VisitPhotoForm(BootstrapMixin, forms.Form):
    """One photo from the phone's camera (``capture="environment"``: the back camera).
    The service checks it is a real image and shrinks it before it is stored."""

    photo = forms.FileField(
        label=_("Photo"), widget=forms.FileInput(attrs={"accept": "image/*", "capture": "environment"})
    )

    @classmethod
    def refused(cls, error: ValidationError) -> "VisitPhotoForm":
        """The form showing why an upload was turned away before its body was read."""
        form = cls(data={}, files={})
        form.is_valid()  # no file: "required", and the field marked invalid; then the reason instead
        form.errors["photo"] = form.error_class(error.messages)
        return form


class CustomerLocationForm(BootstrapMixin, forms.Form):
    """Where the customer is: typed, or filled from the phone ("use my current position")."""

    latitude = forms.CharField(
        label=_("Latitude"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "31.230416"}
        ),
    )
    longitude = forms.CharField(
        label=_("Longitude"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "121.473701"}
        ),
    )
    accuracy = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    @staticmethod
    def _coordinate(value: str, limit: int, message) -> str:
        value = value.strip().replace("，", ".").replace(",", ".")
        try:
            number = Decimal(value)
        except ArithmeticError:
            raise ValidationError(message) from None
        if not number.is_finite() or not -limit <= number <= limit:
            raise ValidationError(message)
        return value

    def clean_latitude(self):
        return self._coordinate(
            self.cleaned_data["latitude"], 90, _("Enter a latitude between -90 and 90, e.g. 31.230416.")
        )

    def clean_longitude(self):
        return self._coordinate(
            self.cleaned_data["longitude"], 180, _("Enter a longitude between -180 and 180, e.g. 121.473701.")
        )

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                data["fix"] = Fix.parse(data["latitude"], data["longitude"], data.get("accuracy"))
            except ValidationError as error:
                self.add_error(None, error)
        return data
