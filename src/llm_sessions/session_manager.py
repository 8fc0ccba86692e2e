"""The unified ``SessionManager`` at the top-level path the originals also used."""

from .api.simple_api import SessionManager

__all__ = ["SessionManager"]
