from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def paginate(request: HttpRequest, items: Any, per_page: int) -> dict[str, Any]:
    """`page_obj` for the page asked in ?page=, and the rest of the query string so that
    page links keep the filters (see ui/_pagination.html)."""
    page: Page = Paginator(items, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    encoded = query.urlencode()
    return {"page_obj": page, "query_without_page": f"{encoded}&" if encoded else ""}
