"""Root URLs: pages of each app, the API under /api/, admin, health and i18n."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from activities.views import MyDayView

from . import mfa, pwa, views
from .api import ObtainTokenView, extra_urlpatterns, router

handler400 = views.bad_request
handler404 = views.page_not_found
handler500 = views.server_error
admin.site.site_header = "Funnel CRM"
admin.site.site_title = "Funnel CRM"

urlpatterns = [
    path("", MyDayView.as_view(), name="home"),
    path("healthz", views.healthz, name="healthz"),
    # The installable app: worker at the root (its scope is the whole site), manifest, offline page.
    path("sw.js", pwa.service_worker, name="pwa-service-worker"),
    path("manifest.webmanifest", pwa.manifest, name="pwa-manifest"),
    path("offline/", pwa.offline, name="pwa-offline"),
    path("offline/log-form/", pwa.offline_log_form, name="pwa-offline-log-form"),
    path("favicon.ico", pwa.favicon, name="favicon"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("accounts/login/", views.FunnelLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.FunnelPasswordChangeView.as_view(), name="password_change"),
    path("accounts/security/", mfa.account_security, name="account-security"),
    path("accounts/security/api-token/", mfa.issue_api_token, name="account-api-token"),
    path(
        "accounts/security/api-tokens/<int:pk>/revoke/", mfa.revoke_api_token, name="account-api-token-revoke"
    ),
    path("accounts/2fa/verify/", mfa.SecondFactorVerifyView.as_view(), name="mfa-verify"),
    path("accounts/2fa/setup/", mfa.SecondFactorSetupView.as_view(), name="mfa-setup"),
    path("accounts/2fa/recovery-codes/", mfa.renew_recovery_codes, name="mfa-recovery-codes"),
    path("accounts/2fa/disable/", mfa.disable_second_factor, name="mfa-disable"),
    path("customers/", include("crm.urls")),
    path("imports/", include("crm.importing.urls")),
    path("funnel/", include("funnel.urls")),
    path("reports/", include("reports.urls")),
    path("", include("activities.urls")),
    path("admin/", admin.site.urls),
    path("api/", include(extra_urlpatterns)),
    path("api/", include(router.urls)),
    path("api/auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
