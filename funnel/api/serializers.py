from rest_framework import serializers

from crm.models import Customer, Order
from funnel.models import Grade, GradeChange


class GradeSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Grade
        fields = ["id", "code", "name", "name_zh", "display_name", "order", "kind", "probability",
                  "stagnation_days", "locked", "pool_return_days", "requires_decision_maker",
                  "playbook", "playbook_zh"]

    def validate(self, attrs):
        """Run the model's rules (range, strict order) so the API answers like the admin."""
        instance = Grade(**{**(self._current_values()), **attrs})
        instance.full_clean(validate_unique=False)
        return attrs

    def _current_values(self) -> dict:
        if self.instance is None:
            return {}
        return {field: getattr(self.instance, field) for field in self.Meta.fields
                if field not in {"display_name"}} | {"pk": self.instance.pk}


class GradeChangeSerializer(serializers.ModelSerializer):
    from_code = serializers.CharField(source="from_grade.code", read_only=True, default=None)
    to_code = serializers.CharField(source="to_grade.code", read_only=True)

    class Meta:
        model = GradeChange
        fields = ["id", "customer", "from_grade", "from_code", "to_grade", "to_code", "changed_at",
                  "changed_by", "owner", "note", "days_in_previous"]
        read_only_fields = fields


class ChangeGradeSerializer(serializers.Serializer):
    grade = serializers.PrimaryKeyRelatedField(queryset=Grade.objects.all())
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class OrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ["id", "customer", "owner", "amount", "gross_profit", "signed_on", "collected_amount",
                  "collected_on", "note", "created_at"]
        read_only_fields = ["owner", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["customer"].queryset = Customer.objects.visible_to(request.user).live()
