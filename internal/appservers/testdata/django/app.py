"""The Django web app of the internal/appservers tests.

It answers every request with the identity it believes it received, read
the two ways Django users read it: request.headers['X-Auth-User'] and
request.META['HTTP_X_AUTH_USER']. The same app is served by gunicorn (wsgi),
uvicorn (asgi) and the standard library's wsgiref (wsgiref_server.py).
"""
import base64
import json
import sys

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["*"],
    SECRET_KEY="appservers-test-only",
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    LOGGING_CONFIG=None,
)

from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import re_path  # noqa: E402

# The headers the gateway sets or must keep from the client (docs/security.md).
NAMES = [
    "X-Auth-User", "X-Auth-Token-Type", "X-Locale", "X-Refreshed-Token",
    "X-Auth-Assertion", "X-Auth-User-Truncated", "X-Request-Id",
    "X-Forwarded-For", "X-Real-IP", "Cookie", "Authorization",
]


def meta_key(name):
    return "HTTP_" + name.upper().replace("-", "_")


def decode_user(raw):
    if raw is None:
        return None
    try:
        return json.loads(base64.b64decode(raw))
    except Exception:
        return "undecodable"


def software(request):
    server = request.META.get("SERVER_SOFTWARE")
    if server is None and "uvicorn" in sys.modules:
        server = "uvicorn/" + sys.modules["uvicorn"].__version__
    return "%s django/%s python/%s" % (server, django.get_version(), sys.version.split()[0])


def whoami(request):
    headers = request.headers
    by_headers = {n: headers.get(n) for n in NAMES}
    by_meta = {n: request.META.get(meta_key(n)) for n in NAMES}
    return JsonResponse({
        "software": software(request),
        "method": request.method,
        "path": request.path,
        "readings": {
            "request.headers": {
                "values": by_headers,
                "user": decode_user(by_headers["X-Auth-User"]),
                "middleware": {k: v for k, v in headers.items() if k.lower().startswith("x-middleware-")},
            },
            "META": {
                "values": by_meta,
                "user": decode_user(by_meta["X-Auth-User"]),
                "middleware": {k: v for k, v in request.META.items() if k.startswith("HTTP_X_MIDDLEWARE_")},
            },
        },
    })


urlpatterns = [re_path(r"^.*$", whoami)]

wsgi = get_wsgi_application()
asgi = get_asgi_application()
