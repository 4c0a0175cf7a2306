"""API tokens (one per device, only a hash of the key at rest: django-rest-knox) and the
claimed Idempotency-Keys of API writes."""

from django.conf import settings
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


class IdempotentRequest(models.Model):
    """An API POST's ``Idempotency-Key``, claimed by its user, and the answer to give a
    resend of the same request (``config.idempotency``).

    The row is inserted (committed on its own) before the view runs: the unique
    (user, key) settles two resends racing. ``completed_at`` is empty while the first
    request runs; then the answer is kept here. Rows older than
    ``IDEMPOTENCY_KEY_HOURS`` are deleted by ``config.tasks.purge_idempotency_keys``.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.TextField()
    # SHA-256 of the body (a multipart body's boundary left out: a resend may draw another).
    body_sha256 = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(blank=True, default=b"")
    content_type = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_user_key_unique"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotent_request_created_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.key}"
