"""``SessionManager`` of the lifecycle layer at the originals' module path."""

from .manager import SessionManager

__all__ = ["SessionManager"]
