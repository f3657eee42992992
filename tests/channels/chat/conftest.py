from __future__ import annotations

import pytest

from frontline.channels.chat.services import widget_create

ORIGIN = "https://shop.example.com"


@pytest.fixture
def widget(db):
    return widget_create(name="Shop", allowed_origins=[ORIGIN])
