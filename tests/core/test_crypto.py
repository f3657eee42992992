from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from frontline.core import crypto


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    crypto._fernet.cache_clear()
    yield
    crypto._fernet.cache_clear()


def test_round_trip_and_no_plaintext_at_rest():
    token = crypto.encrypt("imap-password-123")
    assert "imap-password-123" not in token
    assert crypto.decrypt(token) == "imap-password-123"
    assert crypto.encrypt("") == "" and crypto.decrypt("") == ""


def test_rotation_and_wrong_key(settings):
    old_key = Fernet.generate_key().decode()
    settings.FRONTLINE_ENCRYPTION_KEYS = [old_key]
    token = crypto.encrypt("s3cret")
    crypto._fernet.cache_clear()
    settings.FRONTLINE_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    assert crypto.decrypt(token) == "s3cret"  # old values still readable after rotation
    crypto._fernet.cache_clear()
    settings.FRONTLINE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ValueError, match="cannot decrypt"):
        crypto.decrypt(token)
