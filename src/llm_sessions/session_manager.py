"""The unified ``SessionManager`` at the top-level path the originals also used."""

from .api.manager import SessionManager

__all__ = ["SessionManager"]
