"""Two-factor authentication (TOTP apps + one-time recovery codes) with django-otp.

Who needs it: every user whose role is in ``MFA_REQUIRED_ROLES`` (production: admins and
managers), and anyone who turned it on for themselves. After the password, such a user
is sent to the verification step (``SecondFactorRequiredMiddleware``) for every page
until a code is accepted; the password-only token endpoint refuses them, and they take
API tokens from their security page instead, after the second factor.
"""

import time
from base64 import b32encode

import segno
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_POST
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key
from knox.settings import knox_settings

from core.audit import Action, Outcome, audit
from crm.models import User

from .tokens import DEVICE_NAME_MAX, issue_token, revoke_token, tokens_of

# Session keys: whether the signed-in user has a confirmed device (read on every request,
# so it is looked up once at login), the key being enrolled, and when the session began.
ENROLLED_SESSION_KEY = "mfa_enrolled"
SETUP_KEY_SESSION_KEY = "mfa_setup_key"
SESSION_STARTED_KEY = "auth_started_at"
RECOVERY_DEVICE_NAME = "recovery"


def role_requires_second_factor(user: User) -> bool:
    return user.role in settings.MFA_REQUIRED_ROLES


def user_requires_second_factor(user: User) -> bool:
    """For requests without a session (the token endpoint): by role, or turned on by the user."""
    return role_requires_second_factor(user) or user_has_device(user)


def session_requires_second_factor(request) -> bool:
    """For signed-in requests: no query (the enrolment flag is kept in the session)."""
    return role_requires_second_factor(request.user) or bool(request.session.get(ENROLLED_SESSION_KEY))


def on_user_logged_in(sender, request, user, **kwargs):
    """Start the session's absolute lifetime and remember whether 2FA is turned on
    (connected in ``ConfigAppConfig.ready``)."""
    request.session[SESSION_STARTED_KEY] = int(time.time())
    request.session[ENROLLED_SESSION_KEY] = user_has_device(user)


def _safe_next(request, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def _mark_verified(request, device) -> None:
    """Record the second factor in the session, under a new session id (privilege rises),
    and forget the username's failed log-ins: password and code together lift a lockout
    (config.throttling), so a stranger's wrong guesses cannot shut the owner out."""
    otp_login(request, device)
    request.session.cycle_key()
    request.session[ENROLLED_SESSION_KEY] = True
    if AxesProxyHandler.reset_attempts(username=request.user.get_username()):
        audit(actor=request.user, action=Action.LOGIN_UNLOCKED, detail={"by": "second factor"})


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with fresh ones (each works once)."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.MFA_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        strip=True,
        help_text=gettext_lazy(
            "The 6-digit code from your authenticator app, or one of your recovery codes."
        ),
        widget=forms.TextInput(
            attrs={
                "class": "form-control",
                "autocomplete": "one-time-code",
                "autofocus": True,
                "spellcheck": "false",
            }
        ),
    )


class SecondFactorVerifyView(View):
    """The step after the password: a code from the app, or a recovery code."""

    template_name = "registration/mfa_verify.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_verified():
            return redirect(_safe_next(request))
        if not user_has_device(request.user):
            return redirect(f"{reverse('mfa-setup')}?next={_safe_next(request)}")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return render(request, self.template_name, {"form": CodeForm(), "next": _safe_next(request)})

    def post(self, request):
        form = CodeForm(request.POST)
        if form.is_valid():
            device = self._match(request.user, form.cleaned_data["code"].replace(" ", "").lower())
            if device is not None:
                _mark_verified(request, device)
                used_recovery = isinstance(device, StaticDevice)
                audit(
                    actor=request.user,
                    action=Action.MFA_VERIFIED,
                    detail={"method": "recovery_code" if used_recovery else "totp"},
                )
                if used_recovery:
                    messages.warning(
                        request,
                        _("You used a recovery code; %(left)d are left. Renew them on your security page.")
                        % {"left": device.token_set.count()},
                    )
                return redirect(_safe_next(request))
            audit(actor=request.user, action=Action.MFA_FAILED, outcome=Outcome.FAILURE)
            form.add_error(
                "code",
                _("This code is not valid. Codes change every 30 seconds; each recovery code works once."),
            )
        return render(request, self.template_name, {"form": form, "next": _safe_next(request)})

    @staticmethod
    def _match(user: User, code: str):
        """Check the code against one device only (digits: the app; else a recovery
        code), so each device's own throttling after failures applies."""
        model = TOTPDevice if code.isdigit() else StaticDevice
        with transaction.atomic():
            for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
                if device.verify_token(code):
                    return device
        return None


class SecondFactorSetupView(View):
    """Enrolment: scan the QR code (or type the key), confirm with one code, get
    recovery codes. The key lives in the session until confirmed: no half-made device."""

    template_name = "registration/mfa_setup.html"

    def dispatch(self, request, *args, **kwargs):
        if user_has_device(request.user):
            return redirect("account-security")
        return super().dispatch(request, *args, **kwargs)

    def _device(self, request) -> TOTPDevice:
        key = request.session.get(SETUP_KEY_SESSION_KEY)
        if not key:
            key = request.session[SETUP_KEY_SESSION_KEY] = default_key()
        return TOTPDevice(user=request.user, name=_("Authenticator app"), key=key, confirmed=False)

    def _render(self, request, device: TOTPDevice, form: CodeForm):
        uri = device.config_url
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "next": _safe_next(request),
                "otpauth_uri": uri,
                "qr_data_uri": segno.make(uri, error="m").svg_data_uri(scale=5),
                "secret": _grouped_base32(device.bin_key),
                "required": role_requires_second_factor(request.user),
            },
        )

    def get(self, request):
        return self._render(request, self._device(request), CodeForm())

    def post(self, request):
        device = self._device(request)
        form = CodeForm(request.POST)
        if form.is_valid():
            code = form.cleaned_data["code"].replace(" ", "")
            totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
            if code.isdigit() and totp.verify(int(code), tolerance=device.tolerance):
                with transaction.atomic():
                    device.confirmed = True
                    device.last_t = totp.t()
                    device.save()
                    codes = _new_recovery_codes(request.user)
                    audit(actor=request.user, action=Action.MFA_ENROLLED)
                del request.session[SETUP_KEY_SESSION_KEY]
                _mark_verified(request, device)
                return render(
                    request,
                    "registration/mfa_recovery_codes.html",
                    {"codes": codes, "next": _safe_next(request), "first_time": True},
                )
            form.add_error(
                "code", _("This code is not valid. Check the time on your phone and try the next code.")
            )
        return self._render(request, device, form)


def _grouped_base32(key: bytes) -> str:
    text = b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


class TokenNameForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Device or script"),
        max_length=DEVICE_NAME_MAX,
        required=False,
        strip=True,
        help_text=gettext_lazy('So you can tell your tokens apart, e.g. "Laptop export script".'),
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )


def account_security(
    request, *, new_token: str | None = None, form: TokenNameForm | None = None, status: int = 200
):
    """The user's security page: two-factor status and API tokens (one per device)."""
    return render(
        request,
        "registration/account_security.html",
        {
            "enrolled": user_has_device(request.user),
            "required": role_requires_second_factor(request.user),
            "recovery_codes_left": StaticToken.objects.filter(
                device__user=request.user, device__name=RECOVERY_DEVICE_NAME
            ).count(),
            "tokens": list(tokens_of(request.user)),
            "token_form": form or TokenNameForm(),
            "token_ttl_days": knox_settings.TOKEN_TTL.days,
            "new_token": new_token,
        },
        status=status,
    )


@require_POST
def issue_api_token(request):
    """A new API token for one device, shown once; the others keep working. Reaching
    this page already took the second factor for whoever needs one (middleware)."""
    form = TokenNameForm(request.POST)
    if not form.is_valid():
        return account_security(request, form=form, status=400)
    _token, key = issue_token(user=request.user, name=form.cleaned_data["name"], via="security page")
    return account_security(request, new_token=key)


@require_POST
def revoke_api_token(request, pk: int):
    """The owner revokes one of their tokens; anyone else's id is a 404."""
    token = get_object_or_404(tokens_of(request.user), pk=pk)
    revoke_token(token=token, by=request.user, reason="owner")
    messages.success(
        request, _("The token “%(name)s” no longer works.") % {"name": token.name or _("Unnamed device")}
    )
    return redirect("account-security")


@require_POST
def renew_recovery_codes(request):
    if not user_has_device(request.user):
        messages.error(request, _("Turn on two-factor authentication first."))
        return redirect("account-security")
    with transaction.atomic():
        codes = _new_recovery_codes(request.user)
        audit(actor=request.user, action=Action.RECOVERY_CODES)
    return render(
        request,
        "registration/mfa_recovery_codes.html",
        {"codes": codes, "next": reverse("account-security"), "first_time": False},
    )


@require_POST
def disable_second_factor(request):
    """Users whose role does not require 2FA may turn it off again."""
    if role_requires_second_factor(request.user):
        audit(actor=request.user, action=Action.MFA_DISABLED, outcome=Outcome.DENIED)
        raise PermissionDenied(_("Your role requires two-factor authentication."))
    if user_has_device(request.user):
        with transaction.atomic():
            TOTPDevice.objects.filter(user=request.user).delete()
            StaticDevice.objects.filter(user=request.user).delete()
            audit(actor=request.user, action=Action.MFA_DISABLED)
        request.session[ENROLLED_SESSION_KEY] = False
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        messages.success(request, _("Two-factor authentication is off."))
    return redirect("account-security")
