"""Forms validate shape; the services in ``services.py`` apply the rules."""
from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.forms import BootstrapMixin
from crm.models import Contact, Customer, KeyPersonRole

from .models import (
    Activity,
    ActivityKind,
    CallStage,
    DailyReport,
    MarketReport,
    Objection,
    PlanItem,
    PlanItemKind,
    Purpose,
)
from .services import REPORT_EDITABLE_FIELDS


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
    return [(_("Tomorrow"), today + timedelta(days=1)), (_("+3 days"), today + timedelta(days=3)),
            (_("Next week"), today + timedelta(days=7))]


class ActivityForm(BootstrapMixin, forms.ModelForm):
    """Log an activity for one customer. The short form on "my day" shows only the
    essentials; what it leaves out takes its default (now, no duration, no expense)."""

    started_at = forms.DateTimeField(
        label=_("When"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                      format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."),
    )
    call_stage = forms.TypedChoiceField(label=_("How far did the call get?"), choices=CallStage.choices,
                                        coerce=int, required=False, empty_value=None,
                                        initial=CallStage.CONNECTED)
    effective = forms.BooleanField(
        label=_("Effective (reached a key person with a clear purpose)"), required=False,
        widget=forms.CheckboxInput(attrs={"data-effective": ""}),
    )

    class Meta:
        model = Activity
        fields = ["kind", "purpose", "contact", "started_at", "duration_minutes", "call_stage", "outcome",
                  "effective", "objection", "next_follow_up_on", "competitor_news", "expense"]
        widgets = {
            "outcome": forms.Textarea(attrs={"rows": 2}),
            "competitor_news": forms.Textarea(attrs={"rows": 2}),
            "next_follow_up_on": forms.DateInput(attrs={"type": "date", "data-follow-up": ""},
                                                 format="%Y-%m-%d"),
            "contact": ContactSelect(attrs={"data-contact-select": ""}),
            "objection": ObjectionSelect(attrs={"data-objection-select": ""}),
            "kind": forms.Select(attrs={"data-kind-select": ""}),
        }
        help_texts = {"next_follow_up_on": _("Required for calls: agree the next contact.")}

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
            # Customers who already ordered are served; the others are still being developed.
            purpose = Purpose.SERVICE if customer.order_count else Purpose.NEW_DEVELOPMENT
            self.initial.setdefault("purpose", purpose)

    @property
    def is_not_call(self) -> bool:
        """Hide the call stage until the channel is a call (activities.js toggles it)."""
        return self["kind"].value() != ActivityKind.CALL

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
                self.add_error("next_follow_up_on",
                               _("Agree the next contact: every call needs a next follow-up date."))
            if data.get("call_stage") in (None, ""):
                data["call_stage"] = CallStage.CONNECTED
        else:
            data["call_stage"] = None
        data["duration_minutes"] = data.get("duration_minutes") or 0
        data["expense"] = data.get("expense") or 0
        return data

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


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
        self.fields["customer"].queryset = customers
        self.fields["kind"].initial = PlanItemKind.VISIT
        self.fields["area"].help_text = _("Leave empty to use the customer's region.")

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("The time slot must end after it starts."))
        return data


class ReviewForm(forms.Form):
    """Approve / sign off (comment optional) or return (comment required)."""

    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}))


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
    date = forms.DateField(label=_("Date"),
                           widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}))
