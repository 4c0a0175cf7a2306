"""``GET /api/search/?q=``: the navbar's quick customer search as data (same matching,
same visibility, same two queries as the page: ``crm.selectors.quick_search``)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm import selectors


class QuickSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        min_length=selectors.QUICK_SEARCH_MIN_LENGTH,
        max_length=selectors.QUICK_SEARCH_MAX_LENGTH,
        help_text="A customer's name, a contact's name, or phone digits (4 or more).",
    )


class QuickSearchContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField()
    phone = serializers.CharField()


class QuickSearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="customer.pk")
    name = serializers.CharField(source="customer.name")
    grade_code = serializers.CharField(source="customer.grade.code")
    owner = serializers.IntegerField(source="customer.owner_id", allow_null=True)
    owner_name = serializers.CharField(source="customer.owner.display_name", default=None, allow_null=True)
    contact = QuickSearchContactSerializer(
        allow_null=True,
        help_text="The contact that matched, else the decision maker; null when there is neither.",
    )
    phone = serializers.CharField(help_text="The contact's phone, else the customer's; may be empty.")


class QuickSearchResultSerializer(serializers.Serializer):
    results = QuickSearchHitSerializer(many=True)


class QuickSearchView(APIView):
    """Up to 8 live customers the caller may see, names starting with ``q`` first, each
    with whom to call. ``q`` shorter than 2 characters: 400."""

    @extend_schema(
        parameters=[QuickSearchQuerySerializer], responses=QuickSearchResultSerializer, tags=["customers"]
    )
    def get(self, request):
        query = QuickSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        hits = selectors.quick_search(request.user, query.validated_data["q"])
        return Response(QuickSearchResultSerializer({"results": hits}).data)
