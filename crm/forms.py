"""Forms validate shape; the services in ``services.py`` apply the rules."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.models import ForecastCategory

from .filters import CustomerIdsField
from .models import Contact, Customer, Tag, Tier, User
from .permissions import can_own
from .services import CONTACT_EDITABLE_FIELDS, CUSTOMER_EDITABLE_FIELDS, too_many_tags
from .templatetags.formatting import select_options


class TelInput(forms.TextInput):
    """A phone number: the phone's dial pad (``type="tel"``) and the address book's autofill."""

    input_type = "tel"

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "tel", **(attrs or {})})


def fit_keyboard(field: forms.Field) -> None:
    """The right keyboard on a phone for each kind of field (UI.md, "On a phone"): amounts,
    rates and probabilities the decimal pad, counts the number pad, e-mails the address
    keyboard, dates and times the phone's own pickers. Date and time inputs are always
    written ISO, as those inputs need (Chinese formats would write 2026/06/12, which a
    date input shows as empty). Attributes a form sets itself win."""
    widget = field.widget
    if widget.is_hidden:
        return
    if isinstance(field, forms.DecimalField | forms.FloatField):  # before IntegerField: subclasses
        widget.attrs.setdefault("inputmode", "decimal")
    elif isinstance(field, forms.IntegerField):
        widget.attrs.setdefault("inputmode", "numeric")
    elif isinstance(field, forms.EmailField):
        widget.attrs.setdefault("autocomplete", "email")
    elif isinstance(field, forms.DateField) and isinstance(widget, forms.DateInput):
        widget.input_type, widget.format = "date", "%Y-%m-%d"
    elif isinstance(field, forms.TimeField) and isinstance(widget, forms.TimeInput):
        widget.input_type, widget.format = "time", "%H:%M"


class BootstrapMixin:
    """Bootstrap classes on every widget, the phone keyboard that fits each field
    (``fit_keyboard``), and ``is-invalid`` on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            fit_keyboard(field)
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                # Django puts the class on the list and on each box alike: a class of our own
                # (app.css) keeps each box a real check, never a text field.
                css = "form-check-list"
            elif isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_error(self, field, error):
        # Marked as errors arrive (validation and services' errors alike), never by
        # reading ``self.errors`` in ``__init__``: that would validate the form before a
        # subclass has narrowed its choices (owners, grades) to what the user may pick.
        super().add_error(field, error)
        for name in self._errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs["class"].split():
                    widget.attrs["class"] += " is-invalid"


class PlainSelect(forms.Select):
    """A ``<select>`` written in Python (``select_options``): Django renders each option
    through its own template include, and for a list of some 200 people that was most of
    the customer page's time for an admin."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = self.format_value(value)
        options, has_selected = [], False
        for option_value, label in self.choices:  # one pass: a model field's choices are a query
            if isinstance(label, (list, tuple)):
                return super().render(name, value, attrs, renderer)  # option groups: Django's templates
            option_value = "" if option_value is None else str(option_value)
            selected = not has_selected and option_value in chosen  # one selected, as Django's
            has_selected |= selected
            options.append((option_value, label, selected))
        attributes = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}</select>', name, attributes, select_options(options))


class TagsField(forms.CharField):
    """Tags typed as a comma-separated list of names, at most ``MAX_TAGS_PER_CUSTOMER``;
    the service resolves them (``services.resolve_tags``: only admins add new ones)."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(tag.name if isinstance(tag, Tag) else str(tag) for tag in value)
        return value

    def clean(self, value):
        names = [name.strip() for name in (super().clean(value) or "").replace("，", ",").split(",")]
        names = [name[:50] for name in dict.fromkeys(names) if name]
        if error := too_many_tags(len(names)):
            raise forms.ValidationError(error, code="too_many_tags")
        return names


class CustomerForm(BootstrapMixin, forms.ModelForm):
    tags = TagsField(
        label=_("Tags"), required=False, help_text=_("Comma-separated, e.g. state-owned, price-sensitive")
    )

    class Meta:
        model = Customer
        fields = [*CUSTOMER_EDITABLE_FIELDS]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "expected_signing_on": forms.DateInput(attrs={"type": "date"}),
            "phone": TelInput(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "tags" not in self.initial:
            self.initial["tags"] = list(self.instance.tags.all())
        # Empty is a choice of its own here: the category follows the grade.
        self.fields["forecast_category"].choices = [("", _("— from the grade —")), *ForecastCategory.choices]


class CustomerCreateForm(CustomerForm):
    """Creating also picks the starting grade and the owner (within what the user may assign)."""

    class Meta(CustomerForm.Meta):
        fields = ["grade", "owner", *CUSTOMER_EDITABLE_FIELDS]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        grades = self.fields["grade"].queryset.filter(kind="open")
        self.fields["grade"].queryset = grades
        self.fields["grade"].initial = grades.first()
        owners = User.objects.visible_to(user).filter(is_active=True)
        self.fields["owner"].queryset = owners
        self.fields["owner"].initial = user.pk
        self.fields["owner"].required = not user.is_manager_or_admin
        self.fields["owner"].empty_label = _("— public pool —")

    def clean_owner(self):
        owner = self.cleaned_data.get("owner")
        if not can_own(self.user, owner):
            raise forms.ValidationError(_("You may not create customers for this owner."))
        return owner


class ContactForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = [*CONTACT_EDITABLE_FIELDS]
        widgets = {"preferences": forms.Textarea(attrs={"rows": 2}), "phone": TelInput()}


class ProbabilityOverrideForm(BootstrapMixin, forms.Form):
    probability = forms.DecimalField(
        label=_("Probability (%)"),
        min_value=0,
        max_value=100,
        decimal_places=2,
        required=False,
        help_text=_("Leave empty to go back to the grade's default."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def clean(self):
        data = super().clean()
        if data.get("probability") is not None and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why this customer's probability differs from its grade."))
        return data


class MergeForm(BootstrapMixin, forms.Form):
    other = forms.ModelChoiceField(
        queryset=Customer.objects.none(), label=_("Duplicate to merge into this one")
    )
    confirm = forms.BooleanField(
        label=_("I understand the duplicate will be archived and all its records moved here.")
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["other"].queryset = candidates


class BulkTierForm(forms.Form):
    """The customer list's "change tier": the ticked customers (``customer`` repeated),
    or with ``all_matching`` every customer the list's filter matches."""

    customer = CustomerIdsField(required=False)
    all_matching = forms.BooleanField(required=False)
    tier = forms.ChoiceField(choices=Tier.choices, label=_("New tier"))

    def clean(self):
        data = super().clean()
        if not data.get("all_matching") and not data.get("customer") and "customer" not in self.errors:
            raise ValidationError(_("Tick at least one customer."), code="none_ticked")
        return data


def apply_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form field at fault (or on top)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
