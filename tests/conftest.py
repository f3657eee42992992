from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from frontline.accounts.models import Role
from frontline.accounts.services import api_token_create
from tests.factories import UserFactory

pytest_plugins = ["tests.fakes.provider_server"]


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (make test runs it there too)")
    for item in items:
        if "postgres" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(skip_pg)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def admin_user(db):
    return UserFactory(role=Role.ADMIN, username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def agent(db):
    return UserFactory(role=Role.AGENT)


class ApiClient:
    """A test client that speaks JSON with a bearer token."""

    def __init__(self, user, scope="write"):
        self.user = user
        self.token = api_token_create(user=user, name="tests", scope=scope).secret
        self.client = Client()

    def _headers(self):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}

    def get(self, path, params=None):
        return self.client.get(path, params or {}, **self._headers())

    def post(self, path, data=None):
        return self.client.post(
            path, data or {}, content_type="application/json", **self._headers()
        )

    def patch(self, path, data=None):
        return self.client.patch(
            path, data or {}, content_type="application/json", **self._headers()
        )

    def delete(self, path):
        return self.client.delete(path, **self._headers())


@pytest.fixture
def api_for(db):
    def make(user, scope="write"):
        return ApiClient(user, scope=scope)

    return make
