"""Test settings: the real settings, with tasks run eagerly and files in a temp directory."""

import os
import tempfile

os.environ.setdefault("FRONTLINE_DATA_DIR", tempfile.mkdtemp(prefix="frontline-test-"))
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_BROKER_URL = "memory://"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
