"""The JSON API's description, for counsellors' tools: `/openapi.json` and `/docs`, behind
the login like everything else. `/docs` is rendered here from the OpenAPI schema (no CDN,
no script), so it works under the dashboard's Content-Security-Policy."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from bot.dashboard.deps import CurrentUser, PageUser
from bot.dashboard.templating import render

router = APIRouter(tags=["docs"], include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")


@router.get("/openapi.json")
def openapi_schema(request: Request, user: CurrentUser) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request, user: PageUser) -> HTMLResponse:
    schema = request.app.openapi()
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": operation.get("summary") or "",
            "description": operation.get("description") or "",
            "parameters": [f"{p['name']} ({p['in']})" for p in operation.get("parameters") or []],
            "body": _body_name(operation),
            "responses": sorted(operation.get("responses") or {}),
        }
        for path, item in sorted(schema.get("paths", {}).items())
        for method in METHODS
        if (operation := item.get(method))
    ]
    return render(
        request,
        "api_docs.html",
        {"title": schema["info"]["title"], "operations": operations},
    )


def _body_name(operation: dict) -> str:
    content = (operation.get("requestBody") or {}).get("content") or {}
    for media in content.values():
        ref = (media.get("schema") or {}).get("$ref") or ""
        return ref.rsplit("/", 1)[-1] or "JSON"
    return ""
