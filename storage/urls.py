"""The canonical form of a URL: the project's own dedup key, never Scrapy's request fingerprint.

In ``storage`` because the crawler keys what it stores by it and the Python API
(``storage/archive.py``) must look a URL up the same way, tracking parameters and all;
``crawler/extract/urls.py`` re-exports it with the other URL helpers.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

from courlan.clean import TRACKERS_RE
from w3lib.url import canonicalize_url, url_query_cleaner

# Parameters that only say where a click came from; they never select content. courlan's list
# (utm_*, fbclid, gclid, msclkid, ref, _ga, campaign, session ids...; trafilatura's own URL
# library, kept up to date there), plus Zalo's share parameters, which it lacks and which
# Vietnamese news links carry.
_ZALO = frozenset({"zarsrc", "zarsid"})


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in _ZALO or TRACKERS_RE.search(low) is not None


# A crawl canonicalises each article URL several times (found on a listing, fetched, stored,
# keyed): w3lib's canonicalize_url was 5% of the crawl process's time. Pure, so cached.
@lru_cache(maxsize=8192)
def canonical_url(url: str) -> str:
    """``url`` without fragment and tracking parameters, query sorted, escapes normalised."""
    query = urlsplit(url).query
    tracking = [name for name, _ in parse_qsl(query, keep_blank_values=True) if _is_tracking(name)]
    if tracking:
        url = url_query_cleaner(url, tracking, remove=True, keep_fragments=False)
    return canonicalize_url(url, keep_fragments=False)
