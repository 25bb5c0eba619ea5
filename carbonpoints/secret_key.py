"""What counts as a usable ``SECRET_KEY``: the same test as ``manage.py check --deploy``."""

from django.core.checks.security.base import SECRET_KEY_INSECURE_PREFIX

MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5
KNOWN_WEAK = frozenset({"dev-only-insecure-key-change-me-in-production"})


def secret_key_is_strong(key: str) -> bool:
    """Long, varied, and neither Django's generated dev key nor ours (both are public)."""
    return (
        len(key) >= MIN_LENGTH
        and len(set(key)) >= MIN_UNIQUE_CHARACTERS
        and not key.startswith(SECRET_KEY_INSECURE_PREFIX)
        and key not in KNOWN_WEAK
    )
