"""The site's public address (DIEMCAU_PUBLIC_URL): links that leave the page they were made on
— e-mails, webhooks, join links, calendar feeds — must point where browsers reach the site,
which behind a TLS reverse proxy is not the address the application server listens on."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest


def configured() -> bool:
    """Whether the public address was set, rather than the development default."""
    return bool(getattr(settings, "PUBLIC_URL_SET", False))


def absolute(path: str, request: HttpRequest | None = None) -> str:
    """`path` as a full address: on the configured public address; otherwise on the address
    the request came to (the development server), or the default."""
    if not path or urlsplit(path).scheme in ("http", "https"):
        return path
    if request is not None and not configured():
        return request.build_absolute_uri(path)
    return settings.PUBLIC_URL.rstrip("/") + "/" + path.lstrip("/")


def origin(url: str) -> str:
    """"https://hop.example.gov.vn:8443/x" → "https://hop.example.gov.vn:8443"."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
