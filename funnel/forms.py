from django import forms
from django.utils.translation import gettext_lazy as _

from crm.forms import BootstrapMixin

from .models import Grade


class ChangeGradeForm(BootstrapMixin, forms.Form):
    grade = forms.ModelChoiceField(queryset=Grade.objects.all(), label=_("New grade"))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("Required when the customer is lost: say why."))

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        if customer is not None:
            self.fields["grade"].queryset = Grade.objects.exclude(pk=customer.grade_id)


class OrderForm(BootstrapMixin, forms.Form):
    amount = forms.DecimalField(label=_("Amount (CNY)"), min_value=0, max_digits=14, decimal_places=2)
    gross_profit = forms.DecimalField(label=_("Gross profit (CNY)"), max_digits=14, decimal_places=2,
                                      required=False, initial=0)
    signed_on = forms.DateField(label=_("Signed on"), widget=forms.DateInput(attrs={"type": "date"}))
    collected_amount = forms.DecimalField(label=_("Collected so far (CNY)"), min_value=0, max_digits=14,
                                          decimal_places=2, required=False, initial=0)
    collected_on = forms.DateField(label=_("Collected on"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def clean(self):
        data = super().clean()
        data["gross_profit"] = data.get("gross_profit") or 0
        data["collected_amount"] = data.get("collected_amount") or 0
        return data
