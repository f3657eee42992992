"""An online agent who closes every workspace tab goes offline after a grace period, so chats
are not routed to an empty chair; navigating between pages (close, reopen) changes nothing."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.core.cache import cache

from frontline.accounts.models import AgentProfile, Role
from frontline.accounts.services import agent_presence_set
from frontline.realtime import consumers
from tests.factories import UserFactory
from tests.realtime.test_agent_socket import agent_socket

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def presence(user):
    profile = await database_sync_to_async(AgentProfile.objects.get)(user=user)
    return profile.presence


@pytest.fixture
def short_grace(monkeypatch):
    cache.clear()
    monkeypatch.setattr(consumers, "OFFLINE_AFTER_SECONDS", 0.2)


async def test_last_tab_closed_sets_an_online_agent_offline(short_grace):
    agent = await database_sync_to_async(UserFactory)(role=Role.AGENT)
    await database_sync_to_async(agent_presence_set)(user=agent, presence="online")
    first, _, _ = await agent_socket(agent)
    second, _, _ = await agent_socket(agent)
    await first.disconnect()
    await asyncio.sleep(0.5)
    assert await presence(agent) == "online"  # another tab is still open
    await second.disconnect()
    await asyncio.sleep(0.5)
    assert await presence(agent) == "offline"


async def test_navigation_within_the_grace_period_keeps_them_online(short_grace):
    agent = await database_sync_to_async(UserFactory)(role=Role.AGENT)
    await database_sync_to_async(agent_presence_set)(user=agent, presence="online")
    page, _, _ = await agent_socket(agent)
    await page.disconnect()
    next_page, _, _ = await agent_socket(agent)  # the next page's socket, at once
    await asyncio.sleep(0.5)
    assert await presence(agent) == "online"
    await next_page.disconnect()


async def test_away_stays_away(short_grace):
    agent = await database_sync_to_async(UserFactory)(role=Role.AGENT)
    await database_sync_to_async(agent_presence_set)(user=agent, presence="away")
    page, _, _ = await agent_socket(agent)
    await page.disconnect()
    await asyncio.sleep(0.5)
    assert await presence(agent) == "away"
