"""API tokens: one per device, only a hash of the key at rest (django-rest-knox)."""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken, AuthTokenManager
from knox.settings import CONSTANTS, knox_settings


class ApiTokenQuerySet(models.QuerySet):
    def live(self) -> "ApiTokenQuerySet":
        """Tokens that still authenticate (an expired row is deleted when next presented)."""
        return self.filter(models.Q(expiry__isnull=True) | models.Q(expiry__gt=timezone.now()))


class ApiTokenManager(AuthTokenManager.from_queryset(ApiTokenQuerySet)):
    """Knox's ``create`` (returns the row and the key, shown once) plus ``live()``."""


class ApiToken(AbstractAuthToken):
    """A token for one script, integration or device of one user (``KNOX_TOKEN_MODEL``).

    Knox keeps the SHA-512 of the key (``digest``) and its first 15 characters
    (``token_key``, to find the row); the key itself is shown once, when issued. The
    expiry slides: each use pushes it ``TOKEN_TTL`` on (at most one write a minute).
    An id of its own (knox's model uses the digest) lets the owner name a token to
    revoke without handing the digest around.
    """

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    name = models.CharField(_("device"), max_length=100, blank=True)

    objects = ApiTokenManager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.user} · {self.name or self.token_key[:8]}"

    @property
    def last_used_at(self):
        """When it last authenticated, to the minute: the sliding expiry minus its lifetime."""
        if self.expiry is None:
            return None
        return max(self.created, self.expiry - knox_settings.TOKEN_TTL)
