"""Feature flag lookups.

Flags are defined in config/flags.yaml and served by the flag service; a flag that the service does
not know evaluates to the caller's default.
"""

import os

import requests

FLAG_SERVICE_URL = os.environ.get("FLAG_SERVICE_URL", "http://flags.internal:8080")
_cache: dict[str, bool] = {}


def flag(name: str, default: bool = False) -> bool:
    """Whether the flag called `name` is on; `default` when the flag service does not know it."""
    if name in _cache:
        return _cache[name]
    try:
        resp = requests.get(f"{FLAG_SERVICE_URL}/flags/{name}", timeout=0.2)
    except requests.RequestException:
        return default
    if resp.status_code == 404:
        return default
    resp.raise_for_status()
    value = bool(resp.json()["enabled"])
    _cache[name] = value
    return value


def is_enabled(name: str) -> bool:
    return flag(name, default=False)
