"""A large synthetic replica: N generated articles per site, for timing crawls of realistic size.

Each site's first fully described replica article (its ``truth.json`` facts found verbatim in
the page) is the template; article ``i`` replaces the template's title, lead, first and last
body sentences with deterministic generated text (seeded by ``i``) — and, with ``own_bodies``,
every other plain body paragraph too — shifts its date back by
``i // 24`` days and gives it its own id in the URL (the template's last number, replaced).
Articles are listed newest first, ``per_page`` to a page, round-robin over the site's listing
paths, in the markup of the site's own listing page (its first item cloned), with the site's
pagination; CAO's feeds list the newest. Real articles, traps and the frozen sitemap's entries
are not served. Pages are generated when requested, so 30,000 articles cost no memory.

Without ``own_bodies`` the articles of a site share the template's middle paragraphs: each is a
near-copy of every other, one crowded near-duplicate cluster per site (what the export golden
test wants). With it they are as distinct as real articles, for timing (bench/perf): there,
shared bodies would make every stored article match hundreds of copies, which no real archive does.
"""

from __future__ import annotations

import copy
import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from lxml import html as lxml_html

from crawler.extract.siteconfig import SiteConfig
from crawler.testing.replica import Route, SiteReplica, route_key

_WORD = re.compile(r"^[^\W\d_]+$")
_KEEP_KINDS = ("robots",)


@dataclass(frozen=True)
class _Template:
    path: str
    page: str
    title: str
    lead: str
    first: str
    last: str
    published: datetime
    middle: tuple[str, ...] = ()  # the other body paragraphs found verbatim in the page


class SyntheticSite:
    """Generates the pages of ``count`` articles of one site replica (see module docstring)."""

    def __init__(
        self, site: SiteReplica, config: SiteConfig, count: int, per_page: int = 50, own_bodies: bool = False
    ) -> None:
        self.site = site
        self.config = config
        self.count = count
        self.per_page = per_page
        self.own_bodies = own_bodies
        self.template = _template(site)
        self.words = _vocabulary(site)
        self._id = re.search(r"(\d+)(?=\D*$)", self.template.path)
        assert self._id is not None, f"{site.key}: template path has no id: {self.template.path}"
        self._listing_pages = {path: _listing_template(site, config, path) for path in config.listings}

    # --- what is served ----------------------------------------------------------------------

    def article_path(self, i: int) -> str:
        """URL path of article ``i`` (0 is the newest): the template's, with its own id."""
        assert self._id is not None
        digits = len(self._id.group(1))
        new_id = str(10 ** (digits - 1) + i) if digits > 5 else str(100000 + i)
        start, end = self._id.span(1)
        return self.template.path[:start] + new_id + self.template.path[end:]

    def title(self, i: int) -> str:
        return self._sentence(i, "title", 9, 14).rstrip(".") + f" (số {i})"

    def article(self, i: int) -> bytes:
        t = self.template
        page = t.page.replace(t.path, self.article_path(i))
        page = page.replace(t.title, self.title(i))
        page = page.replace(t.lead, self._sentence(i, "lead", 25, 45))
        page = page.replace(t.first, self._sentence(i, "first", 20, 40))
        page = page.replace(t.last, self._sentence(i, "last", 20, 40))
        if self.own_bodies:
            for k, paragraph in enumerate(t.middle):
                words = len(paragraph.split())
                page = page.replace(paragraph, self._sentence(i, f"p{k}", max(1, words * 4 // 5), words * 6 // 5 + 1))
        date = t.published - timedelta(days=i // 24)
        for old, new in (("%d/%m/%Y", "%d/%m/%Y"), ("%Y-%m-%d", "%Y-%m-%d")):
            page = page.replace(t.published.strftime(old), date.strftime(new))
        return page.encode("utf-8")

    def listing(self, path: str, page: int) -> bytes | None:
        """Listing ``path``'s page ``page`` (1-based), or None past its end."""
        index = self.config.listings.index(path)
        stride = len(self.config.listings)
        mine = range(index, self.count, stride)
        chunk = mine[(page - 1) * self.per_page : page * self.per_page]
        if not chunk:
            return None
        head, item, tail = self._listing_pages[path][0 if page == 1 else 1]
        items = "".join(
            item.replace("__HREF__", self.article_path(i)).replace("__TITLE__", self.title(i)) for i in chunk
        )
        return (head + items + tail).encode("utf-8")

    def feed(self, first: int, step: int = 1, size: int = 50) -> bytes:
        items = "".join(
            f"<item><title>{escape(self.title(i))}</title><link>{{{{BASE}}}}{self.article_path(i)}</link></item>"
            for i in range(first, min(self.count, first + size * step), step)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>'
            f"{escape(self.config.name)}</title>{items}</channel></rss>"
        ).encode()

    def install(self) -> None:
        """Replace the replica's routes by the synthetic site's."""
        kept = {k: r for k, r in self.site.routes.items() if r.kind in _KEEP_KINDS}
        generated: dict[str, tuple[Route, object]] = {}
        for i in range(self.count):
            path = self.article_path(i)
            assert self.config.is_article_path(path), f"{self.site.key}: {path} is not article-shaped"
            generated[path] = (Route(path, "article", name=str(i)), lambda i=i: self.article(i))
        for path in self.config.listings:
            pages = -(
                -len(range(self.config.listings.index(path), self.count, len(self.config.listings))) // self.per_page
            )
            if not self.config.pagination:
                pages = 1  # a site without page URLs (bocongan): page 1, and the feeds list the rest
            for n in range(1, max(pages, 1) + 1):
                page_path = path if n == 1 else (self.config.pagination or "{path}").format(path=path, n=n)
                generated[page_path] = (Route(page_path, "listing"), lambda p=path, n=n: self.listing(p, n) or b"")
        stride = max(1, len(self.config.feeds))
        for k, path in enumerate(self.config.feeds):
            first, step = (0, 1) if k == 0 else (k - 1, stride - 1)
            if not self.config.pagination:  # every article through one of the feeds
                first, step = k, stride
            size = self.count if not self.config.pagination else 50
            generated[path] = (Route(path, "feed"), lambda f=first, s=step, n=size: self.feed(f, s, n))
        if self.config.feed_index:
            links = "".join(f'<a href="{p}">{p}</a>' for p in self.config.feeds)
            index = f"<html><body>{links}</body></html>".encode()
            generated[self.config.feed_index] = (Route(self.config.feed_index, "listing"), lambda b=index: b)
        for path in self.config.sitemaps:  # the frozen sitemap lists only real (absent) articles
            empty = b'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>'
            generated[path] = (Route(path, "sitemap"), lambda body=empty: body)
        routes: dict[str, Route] = dict(kept)
        for path, (route, make) in generated.items():
            route.modified = self.site.routes[next(iter(self.site.routes))].modified
            routes[route_key(path)] = route
            self.site.generators[route_key(path)] = make  # type: ignore[assignment]
        self.site.routes = routes

    def _sentence(self, i: int, part: str, low: int, high: int) -> str:
        rng = random.Random(f"{self.site.key}/{i}/{part}")
        words = rng.choices(self.words, k=rng.randint(low, high))
        return " ".join(words).capitalize() + "."


def _template(site: SiteReplica) -> _Template:
    truth = json.loads((site.folder / "truth.json").read_text(encoding="utf-8"))
    for route in site.routes_of("article"):
        facts = truth.get(route.name or "", {})
        page = site.raw(route).decode("utf-8")
        texts = [str(facts.get(k) or "") for k in ("title", "lead", "body_first", "body_last")]
        if facts.get("published_at") and all(t and t in page for t in texts):
            published = datetime.fromisoformat(str(facts["published_at"]))
            middle = _middle_paragraphs(page, texts[2], texts[3])
            return _Template(route.path, page, texts[0], texts[1], texts[2], texts[3], published, middle)
    raise ValueError(f"{site.key}: no replica article can serve as a template")


def _middle_paragraphs(page: str, first: str, last: str) -> tuple[str, ...]:
    """The texts of the paragraphs beside the body's first one (same parent) that appear verbatim
    in ``page`` (no inline markup, no entities), of five words or more, but its first and last."""
    tree = lxml_html.document_fromstring(page)
    for p in tree.iter("p"):
        if first in p.text_content():
            parent = p.getparent()
            break
    else:
        return ()
    texts = (" ".join(q.text_content().split()) for q in parent.iter("p"))
    found = {t for t in texts if len(t.split()) >= 5 and t in page and first not in t and last not in t}
    return tuple(sorted(found, key=len, reverse=True))  # longest first: a text inside another is replaced after it


def _vocabulary(site: SiteReplica) -> list[str]:
    truth = json.loads((site.folder / "truth.json").read_text(encoding="utf-8"))
    text = " ".join(str(f.get(k) or "") for f in truth.values() for k in ("title", "lead", "body_first", "body_last"))
    words = sorted({w.lower() for w in text.split() if _WORD.match(w)})
    return words or ["tin"]


def _listing_template(site: SiteReplica, config: SiteConfig, path: str) -> list[tuple[str, str, str]]:
    """(head, item, tail) of listing ``path``'s first page and of its pagination pages."""
    first = site.lookup(path)
    assert first is not None, f"{site.key}: no replica listing page {path}"
    later = site.lookup(config.pagination.format(path=path, n=2)) if config.pagination else None
    page_one = _split(site, first, config.listing_links)
    try:
        return [page_one, _split(site, later, config.listing_links) if later else page_one]
    except ValueError:  # the replica's page 2 is the end of the list: no item to clone
        return [page_one, page_one]


def _split(site: SiteReplica, route: Route, selector: str) -> tuple[str, str, str]:
    raw = site.raw(route).decode("utf-8")
    fragment = not raw.lstrip().lower().startswith(("<!doctype", "<html"))
    tree = lxml_html.fragment_fromstring(raw, create_parent="div") if fragment else lxml_html.document_fromstring(raw)
    anchors = tree.cssselect(selector)
    if not anchors:
        raise ValueError(f"{site.key}: listing {route.path} has no {selector!r} link")
    items: list[lxml_html.HtmlElement] = []
    for anchor in anchors:
        found = anchor.xpath("ancestor-or-self::*[self::article or self::li][1]")
        item = found[0] if found else anchor
        if item not in items:
            items.append(item)
    proto = copy.deepcopy(items[0])
    for anchor in proto.cssselect(selector) or proto.iter("a"):
        anchor.set("href", "__HREF__")
        for child in list(anchor):
            anchor.remove(child)
        anchor.text = "__TITLE__"
    for other in proto.iter("a"):
        other.set("href", "__HREF__")
    marker = lxml_html.fromstring("<i>__ITEMS__</i>")
    items[0].addprevious(marker)
    for item in items:
        item.drop_tree()
    if fragment:
        out = "".join(lxml_html.tostring(c, encoding="unicode") for c in tree)
        out = (tree.text or "") + out
    else:
        out = lxml_html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")
    head, _, tail = out.partition("<i>__ITEMS__</i>")
    proto.tail = None
    return head, lxml_html.tostring(proto, encoding="unicode"), tail
