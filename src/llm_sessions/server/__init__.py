"""``llm-sessions serve``: the HTTP API over any store (install the ``server`` extra).

``create_app(store=..., keys=...)`` returns the ASGI app, to run under any ASGI server or to mount
in your own service.
"""

from __future__ import annotations

try:
    import fastapi  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        'The HTTP server needs FastAPI and uvicorn: pip install "llm-sessions[server]"'
    ) from exc

from .app import app_from_environment, create_app
from .auth import ApiKeys
from .retention_task import RetentionSchedule
from .tenancy import TenantStore

__all__ = ["ApiKeys", "RetentionSchedule", "TenantStore", "app_from_environment", "create_app"]
