from __future__ import annotations

from frontline.channels.registry import ChannelAdapter

# The adapters this package registers (apps.py registers every package's ADAPTERS).
ADAPTERS: list[ChannelAdapter] = []
