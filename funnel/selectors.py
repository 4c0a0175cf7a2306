"""Reads of the funnel, each scoped by the visibility rule."""
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from crm.models import Customer, User
from crm.selectors import customers_visible_to, weighted_value_expression

from .models import Grade, GradeChange, GradeKind

ZERO = Decimal(0)


def open_customers(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    return queryset.filter(archived_at__isnull=True, grade__kind=GradeKind.OPEN)


def funnel_summary(user: User, owner: User | None = None) -> list[dict]:
    """Count and weighted value per grade of the live customers ``user`` may see
    (optionally one owner's), in funnel order — one grouped query plus the grades."""
    customers = customers_visible_to(user).filter(archived_at__isnull=True)
    if owner is not None:
        customers = customers.filter(owner=owner)
    totals = {
        row["grade_id"]: row
        for row in customers.order_by().values("grade_id").annotate(
            count=Count("pk"),
            expected=Coalesce(Sum("expected_value"), ZERO),
            weighted_sum=Coalesce(Sum(weighted_value_expression()), ZERO),
        )
    }
    return [
        {
            "grade": grade,
            "count": totals.get(grade.pk, {}).get("count", 0),
            "expected": totals.get(grade.pk, {}).get("expected", ZERO),
            "weighted": totals.get(grade.pk, {}).get("weighted_sum", ZERO),
        }
        for grade in Grade.objects.order_by("order")
    ]


def quota(owner: User) -> Decimal:
    """定额: the sum of weighted values of ``owner``'s open customers."""
    result = open_customers(Customer.objects.filter(owner=owner)).aggregate(
        total=Coalesce(Sum(weighted_value_expression()), ZERO),
    )
    return result["total"]


def grade_changes_visible_to(user: User) -> QuerySet[GradeChange]:
    return GradeChange.objects.visible_to(user).select_related(
        "customer", "from_grade", "to_grade", "changed_by", "owner",
    )


def grade_timeline(customer: Customer, limit: int) -> QuerySet[GradeChange]:
    return (GradeChange.objects.filter(customer=customer)
            .select_related("from_grade", "to_grade", "changed_by").order_by("-changed_at", "-pk")[:limit])


def stagnant_filter(now) -> Q:
    return Q(stagnant_from__lte=now)
