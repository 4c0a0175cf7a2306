"""API tokens: issuing, authenticating and revoking (django-rest-knox, ``config.ApiToken``).

A token belongs to one device of one user. Only its SHA-512 is stored; the key is shown
once. It expires ``REST_KNOX["TOKEN_TTL"]`` (30 days) after its last use, and is revoked
(its row deleted) by its owner (security page, ``DELETE /api/auth/tokens/<id>/``), by
``POST /api/auth/logout/``, when the user's password changes (any path: the password
hook below), when the user is deactivated, and by an admin (admin action).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth as knox_auth
from rest_framework import exceptions

from core.audit import Action, audit
from crm.models import User

from .models import ApiToken

DEVICE_NAME_MAX = ApiToken._meta.get_field("name").max_length


class TokenAuthentication(knox_auth.TokenAuthentication):
    """Knox's token check, one query per request like DRF's (``Token <key>`` header;
    anonymous calls get the ``WWW-Authenticate: Token`` challenge, so 401).

    Knox also walks all the user's other tokens on every request to delete expired
    ones; here only the presented token's expiry is checked, and the others are swept
    when the user is next issued a token (``issue_token``).
    """

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False

    def validate_user(self, auth_token):
        if not auth_token.user.is_active:
            # Deactivation deletes the tokens; this covers a user switched off by other means.
            auth_token.delete()
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return auth_token.user, auth_token


def tokens_of(user: User):
    """The user's tokens that still work, newest first (the security page and the API)."""
    return ApiToken.objects.filter(user=user).live().order_by("-created", "-id")


@transaction.atomic
def issue_token(*, user: User, name: str = "", via: str) -> tuple[ApiToken, str]:
    """A new token for one device; returns the row and the key (shown once, never stored).

    Who may call: the token endpoint after the password (users without a second
    factor), the security page (after the second factor where one is needed). Each
    call makes a new token; the user's expired ones are deleted on the way.
    """
    ApiToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    token, key = ApiToken.objects.create(user=user, name=(name or "").strip()[:DEVICE_NAME_MAX])
    audit(actor=user, action=Action.TOKEN_ISSUED, obj=token, detail={"via": via})
    return token, key


@transaction.atomic
def revoke_token(*, token: ApiToken, by: User | None, reason: str) -> None:
    """Delete one token (its owner, logout, an admin). Idempotent: a token already gone
    is left gone."""
    audit(actor=by, action=Action.TOKEN_REVOKED, obj=token, detail={"reason": reason, "owner": token.user_id})
    ApiToken.objects.filter(pk=token.pk).delete()


@transaction.atomic
def revoke_tokens_of(*, user: User, by: User | None, reason: str) -> int:
    """Delete every token of ``user`` (password change, deactivation, an admin); returns
    how many. Writes one audit row when there were any."""
    count, _by_model = ApiToken.objects.filter(user=user).delete()
    if count:
        audit(
            actor=by,
            action=Action.TOKEN_REVOKED,
            object_type="crm.user",
            object_id=str(user.pk),
            detail={"reason": reason, "owner": user.pk, "count": count},
        )
    return count


class RevokeTokensOnPasswordChange:
    """Not a rule on passwords: Django calls ``password_changed`` of every entry of
    ``AUTH_PASSWORD_VALIDATORS`` whenever a user's new password is saved — the password
    page, the admin, ``manage.py changepassword``, any later reset flow — so the tokens
    die with the old password on every path, as the other sessions do. (A hash upgrade
    at login is not a change and does not call it.)"""

    def validate(self, password, user=None) -> None:
        return None

    def password_changed(self, password, user=None) -> None:
        if user is not None and user.pk is not None:
            revoke_tokens_of(user=user, by=user, reason="password changed")

    def get_help_text(self) -> str:
        return _("Changing your password revokes all your API tokens.")


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of ``TokenAuthentication`` (``Authorization: Token <key>``)."""

    target_class = "config.tokens.TokenAuthentication"
    name = "tokenAuth"
