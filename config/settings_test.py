"""Test settings: the real settings, with tasks run eagerly and files in a temp directory."""

import os
import tempfile

os.environ.setdefault("FRONTLINE_DATA_DIR", tempfile.mkdtemp(prefix="frontline-test-"))
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_BROKER_URL = "memory://"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# A file, not memory: the browser and websocket tests run a real uvicorn server in a thread of
# the test process, and its threads must see the test database too.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.environ.get("SQLITE_TEST_PATH") or str(DATA_DIR / "test.sqlite3")  # noqa: F405
    }

# Tests push through the in-memory layer directly; the outbox tailer is tested on its own.
REALTIME_TAIL_EVENTS = False

# Serve static files straight from the apps (no collectstatic in tests); the browser tests
# load the real CSS and scripts.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Webhook views run in the caller's thread, inside the test's transaction.
WEBHOOK_VIEWS_IN_POOL = False
