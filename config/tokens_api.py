"""The API's own token routes: list and revoke one's tokens, log out.

``POST /api/auth/token/`` (issuing) stays in ``config.api`` with the lockout and the
second-factor rule; the services are in ``config.tokens``.
"""

from django.contrib.auth import logout
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import ApiToken
from .tokens import revoke_token, tokens_of


class ApiTokenSerializer(serializers.ModelSerializer):
    last_used_at = serializers.DateTimeField(read_only=True)
    current = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "created", "expiry", "last_used_at", "current"]
        read_only_fields = fields

    def get_current(self, token) -> bool:
        """Whether this request was authenticated with this token."""
        request = self.context.get("request")
        return request is not None and isinstance(request.auth, ApiToken) and request.auth.pk == token.pk


@extend_schema(tags=["auth"])
class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """``/api/auth/tokens/``: the caller's own tokens that still work (never anyone
    else's: another user's id answers 404); ``DELETE`` revokes one at once."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()  # the schema's model; requests use get_queryset
    filter_backends = []

    def get_queryset(self):
        return tokens_of(self.request.user)

    def perform_destroy(self, instance):
        revoke_token(token=instance, by=self.request.user, reason="owner")


class LogoutView(APIView):
    """``POST /api/auth/logout/``: ends the credential of this request — the token it
    came with is revoked; a browser session is ended."""

    @extend_schema(tags=["auth"], request=None, responses={204: None})
    def post(self, request):
        if isinstance(request.auth, ApiToken):
            revoke_token(token=request.auth, by=request.user, reason="logout")
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
