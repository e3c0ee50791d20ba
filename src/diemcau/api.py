"""The REST API under /api/v1/, documented at /api/docs (OpenAPI)."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="diemcau API",
    version="1",
    description="Hệ thống hội nghị trực tuyến — agencies, endpoints, contacts.",
    docs_url="/docs",
    openapi_url="/openapi.json",
    urls_namespace="api",
)
