"""Names that coding and analysis share, defined once below both (so that analysis need not
import the tagger or the sheet exchange to learn them)."""

from __future__ import annotations

DEFAULT_CODEBOOK = "brand_posts"  # the codebook smcat ships, and every command's default
GOLD = "gold"  # the coder name of adjudicated decisions
MACHINE_PREFIX = "auto:"  # machine coders are named auto:<codebook>@<version>
TOPIC_HOT_WINDOW_DAYS = 7  # a topic counts as hot if on the list within a week of the post
