"""The web inspector served at the server's root: the sessions page and one page per session.

Pages are rendered on the server (``pages``), with one small script and one stylesheet shipped in
``static/``; the script reads the JSON API (``/v1/sessions/...``) and the inspector's own event
pages (``/inspector/api/...``) with the login cookie (``key_cookie``). Nothing is loaded from
another origin, and every response carries a Content-Security-Policy that forbids inline scripts.
"""
