"""On a phone: numbers are tap-to-call, e-mails tap-to-mail, and every form field brings up
the keyboard that fits it (UI.md, "On a phone")."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from crm.forms import ContactForm, CustomerForm, ProbabilityOverrideForm
from crm.templatetags.contact_links import mailto_link, tel_href, tel_link
from crm.tests.factories import ContactFactory, CustomerFactory
from funnel.forms import ConflictForm, OrderForm
from funnel.tests.factories import grade
from reports.forms import BackwardPlanForm


@pytest.mark.parametrize(
    ("written", "href"),
    [
        ("+86 139-0310-8888", "tel:+8613903108888"),
        ("139 0310 8888", "tel:13903108888"),
        ("(021) 5555-1234", "tel:02155551234"),
        ("021-5555-1234转8", "tel:02155551234,8"),
        ("021 5555 1234 ext. 12", "tel:02155551234,12"),
        ("＋８６ １３９ ０３１０ ８８８８", "tel:+8613903108888"),  # full-width, as typed with a Chinese IME
        ("n/a", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_a_phone_number_dials_its_digits_with_a_leading_plus(written, href):
    assert tel_href(written) == href


def test_tel_and_mailto_links_escape_what_they_show():
    assert tel_link("+86 139<b>") == '<a class="tel-link" href="tel:+86139">+86 139&lt;b&gt;</a>'
    assert tel_link("unknown") == "unknown"
    assert mailto_link("Li.Na@Example.cn") == (
        '<a class="mailto-link" href="mailto:Li.Na@Example.cn">Li.Na@Example.cn</a>'
    )
    assert mailto_link('x"@y.cn') == '<a class="mailto-link" href="mailto:x%22@y.cn">x&quot;@y.cn</a>'
    assert mailto_link("no address") == "no address"


def test_the_customer_page_links_its_phones_and_e_mails(personas, client_as):
    customer = CustomerFactory(
        owner=personas.salesperson, grade=grade("C"), phone="021-5555-1234", email="office@harbor.cn"
    )
    ContactFactory(customer=customer, name="Wang Fang", phone="+86 139 0310 8888", email="wang@harbor.cn")

    html = client_as("salesperson").get(reverse("crm:customer-detail", args=[customer.pk])).content.decode()

    assert '<a class="tel-link" href="tel:+8613903108888">+86 139 0310 8888</a>' in html
    assert '<a class="mailto-link" href="mailto:wang@harbor.cn">wang@harbor.cn</a>' in html
    assert '<a class="tel-link" href="tel:02155551234">021-5555-1234</a>' in html
    assert '<a class="mailto-link" href="mailto:office@harbor.cn">office@harbor.cn</a>' in html
    # On a phone the contacts table is a stack of cards, each value under its column's name.
    assert re.search(r'<td data-label="Phone"><a class="tel-link"', html)


def _input(form, name: str) -> str:
    return str(form[name])


def test_customer_and_contact_forms_bring_up_the_dial_pad_and_the_mail_keyboard(db):
    customer_form, contact_form = CustomerForm(), ContactForm()

    for form in (customer_form, contact_form):
        assert 'type="tel"' in _input(form, "phone")
        assert 'autocomplete="tel"' in _input(form, "phone")
        assert 'type="email"' in _input(form, "email")
        assert 'autocomplete="email"' in _input(form, "email")
    assert 'inputmode="decimal"' in _input(customer_form, "expected_value")
    assert 'inputmode="numeric"' in _input(customer_form, "employees")
    assert 'type="tel"' in _input(ConflictForm(), "phone")


@pytest.mark.parametrize(
    ("form_class", "fields"),
    [
        (OrderForm, ("amount", "gross_profit", "collected_amount")),
        (ProbabilityOverrideForm, ("probability",)),
        (BackwardPlanForm, ("target", "average_order")),
    ],
)
def test_amounts_and_probabilities_bring_up_the_decimal_pad(form_class, fields):
    form = form_class()
    for name in fields:
        assert 'inputmode="decimal"' in _input(form, name), name


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_dates_use_the_phone_date_picker_written_iso_in_every_language(db, language):
    # Chinese formats write 2026/06/12 first, which a date input would show as empty.
    with translation.override(language):
        order = OrderForm(initial={"signed_on": datetime.date(2026, 6, 12)})
        customer = CustomerForm(initial={"expected_signing_on": datetime.date(2026, 9, 1)})

        assert 'type="date"' in _input(order, "signed_on")
        assert 'value="2026-06-12"' in _input(order, "signed_on")
        assert 'value="2026-09-01"' in _input(customer, "expected_signing_on")


def test_a_date_field_without_a_widget_of_its_own_still_gets_the_date_picker():
    from django import forms

    from crm.forms import BootstrapMixin

    class Form(BootstrapMixin, forms.Form):
        day = forms.DateField()
        at = forms.TimeField()
        amount = forms.DecimalField(widget=forms.TextInput(attrs={"inputmode": "text"}))

    form = Form(initial={"day": datetime.date(2026, 6, 12), "at": datetime.time(9, 30), "amount": Decimal(1)})

    assert 'type="date"' in _input(form, "day") and 'value="2026-06-12"' in _input(form, "day")
    assert 'type="time"' in _input(form, "at") and 'value="09:30"' in _input(form, "at")
    assert 'inputmode="text"' in _input(form, "amount")  # what a form sets itself wins


def test_radio_buttons_and_checkbox_lists_stay_real_boxes():
    # Django puts a widget's class on the list and on each box: never "form-control" there.
    from funnel.forms import SettleForm

    html = _input(SettleForm(may_force=False), "outcome")

    assert "form-control" not in html
    assert html.count('class="form-check-list"') == 4  # the list and its three radio buttons
