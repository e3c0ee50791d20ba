"""ASGI entry point: Django's pages and API over HTTP, the live meeting over WebSockets.

WebSockets authenticate with the session cookie (AuthMiddlewareStack) and are accepted only
from the site's own origins (AllowedHostsOriginValidator), so another site cannot open a
console with a visitor's cookie.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diemcau.settings")
django_application = get_asgi_application()  # sets Django up before the consumers load

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from diemcau.media.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
