"""Publishing and editing replica pages between two crawls (what a newsroom does)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from crawler.testing.replica import SiteReplica
from storage.when import VN_TZ

WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]


def publish_cao_article(site: SiteReplica, article_id: int, title: str, hours_ago: float = 1.0) -> str:
    """Publish a new CAO article (a copy of a stored one with a new id, title and date).

    It is dated ``hours_ago`` before now, linked first on ``/tin-chinh`` and in its feed.
    Returns its path.
    """
    template = site.lookup(
        "/tin-chinh/cong-an-tphcm-trien-khai-cao-diem-bao-dam-an-ninh-trat-tu-tet-nguyen-dan-binh-ngo-2026_184612.html"
    )
    assert template is not None and template.name is not None
    facts = json.loads((site.folder / "truth.json").read_text(encoding="utf-8"))[template.name]
    path = f"/tin-chinh/bai-moi-so-{article_id}_{article_id}.html"
    when = datetime.now(VN_TZ) - timedelta(hours=hours_ago)
    stamp = f"{WEEKDAYS[when.weekday()]}, {when:%d/%m/%Y %H:%M}"
    page = site.raw(template).decode("utf-8")
    page = page.replace(template.path, path).replace(facts["title"], title).replace("Thứ Ba, 20/01/2026 07:30", stamp)
    page = page.replace(facts["body_first"], f"Bài số {article_id}. " + facts["body_first"])
    site.publish(path, page, name=str(article_id))
    link = f'<li><h3><a href="{path}">{title}</a></h3><div class="hidden-xs news_lead">Tin mới.</div></li>'
    _insert_after(site, "/tin-chinh", '<ul class="list_news">', link)
    item = f"<item><title>{title}</title><link>{{{{BASE}}}}{path}</link><guid>{{{{BASE}}}}{path}</guid></item>"
    _insert_after(site, "/rss/tin-chinh", "<channel>", item)
    return path


def edit_article(site: SiteReplica, path: str, old: str, new: str) -> None:
    """Change a sentence of a published page."""
    route = site.lookup(path)
    assert route is not None
    page = site.raw(route).decode("utf-8")
    assert old in page
    site.publish(path, page.replace(old, new, 1), name=route.name)


def _insert_after(site: SiteReplica, path: str, marker: str, html: str) -> None:
    route = site.lookup(path)
    assert route is not None
    page = site.raw(route).decode("utf-8")
    assert marker in page, f"{marker} not in {path}"
    site.publish(path, page.replace(marker, marker + html, 1), kind=route.kind)
