"""Cross-cutting HTTP behaviour that is not any one app's business."""
from django.contrib.auth.middleware import LoginRequiredMiddleware as _DjangoLoginRequiredMiddleware
from rest_framework.views import APIView


class NoStoreForUsersMiddleware:
    """Pages for a signed-in user carry customer data: never let a cache keep them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            response["Cache-Control"] = "no-store"
        return response


class LoginRequiredMiddleware(_DjangoLoginRequiredMiddleware):
    """Every page needs a signed-in user; API views are left to DRF, which also accepts
    tokens and answers 401/403 instead of redirecting to the login page."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None)
        if view_class is not None and issubclass(view_class, APIView):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
