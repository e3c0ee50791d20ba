"""The REST API under /api/v1/, documented at /api/docs (OpenAPI).

Every operation needs a caller: an API token (``Authorization: Bearer dc_…``) or the pages'
session (with CSRF for unsafe methods). What the caller may see and do is decided by
`diemcau.core.permissions` and the services, never here. Error shapes: `core.api_errors`.
"""

from diemcau.core.api_auth import API_AUTH
from diemcau.core.api_errors import (
    DiemcauNinjaAPI,
    JsonObjectParser,
    register_exception_handlers,
)
from diemcau.directory.api import router as directory_router

api = DiemcauNinjaAPI(
    title="diemcau API",
    version="1",
    description=(
        "Hệ thống hội nghị trực tuyến — agencies, endpoints, contacts, meetings, technical "
        "checks, incidents and the calendar.\n\n"
        "Authenticate with `Authorization: Bearer <API token>` or a signed-in session "
        "(send the CSRF token for POST/PATCH). Input errors are 422 "
        '`{"detail": [{"loc": ["body", "<field>"], "msg": "...", "type": "..."}]}`; '
        "a rule of the province's regulation adds `code` and `article`, and `msg` starts "
        "with the article. Every other error is `{\"detail\": \"<message>\"}`: 400 a body "
        "that cannot be read or JSON nested more than 32 levels, 401 unauthenticated, 403 not "
        "allowed, 404 not found or out of scope (also a path naming no operation), 405 a "
        "method the operation does not take, 409 not possible in the object's current state, "
        "413 a body over the size limit, 500 a failure of the server.\n\n"
        "Ids, `limit` and `offset` are at most 2^63 - 1; dates and times lie between "
        "1 January 2020 and five years from today; text may not contain U+0000."
    ),
    docs_url="/docs",
    openapi_url="/openapi.json",
    urls_namespace="api",
    auth=API_AUTH,
    parser=JsonObjectParser(),
)
register_exception_handlers(api)

api.add_router("/v1/", directory_router)
api.add_router("/v1/", "diemcau.scheduling.api.router")
api.add_router("/v1/", "diemcau.scheduling.mail_api.router")
api.add_router("/v1/", "diemcau.media.api.router")
api.add_router("/v1/", "diemcau.proceedings.api.router")
api.add_router("/v1/", "diemcau.archive.api.router")
api.add_router("/v1/", "diemcau.reports.api.router")
