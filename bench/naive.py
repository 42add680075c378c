"""The spider a user would write in ten minutes: the yardstick of ``bench/perf --part versus``.

    python -m bench.naive --urls URLS.txt --db OUT.sqlite3 [--fetch-only] [-s NAME=VALUE ...]

A plain single-process Scrapy spider (no project settings) that fetches the article URLs listed
in ``URLS.txt``, runs ``trafilatura.bare_extraction(with_metadata=True)`` in its callback and
writes the rows with sqlite-utils, 100 to a batch. ``--fetch-only`` drops the extraction and the
storage: what Scrapy alone does on the same pages, the upper bound of any crawler built on it.
Prints one line: ``stored N`` (or ``fetched N``).
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
import sqlite_utils
import trafilatura
from scrapy.crawler import CrawlerProcess
from scrapy.http import Request, Response

BATCH = 100
FIELDS = ("url", "title", "author", "date", "categories", "tags", "description", "text", "hostname")


class NaiveSpider(scrapy.Spider):
    name = "naive"

    def __init__(self, urls: list[str], db: str, fetch_only: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls
        self.db = sqlite_utils.Database(db)
        self.fetch_only = fetch_only
        self.rows: list[dict[str, Any]] = []
        self.count = 0

    async def start(self) -> AsyncIterator[Request]:
        for url in self.urls:
            yield Request(url)

    def parse(self, response: Response) -> Iterator[dict[str, Any]]:
        if self.fetch_only:
            self.count += 1
            return
        doc = trafilatura.bare_extraction(response.text, url=response.url, with_metadata=True)
        if doc is None:
            return
        data = doc if isinstance(doc, dict) else doc.as_dict()
        self.rows.append({k: _plain(data.get(k)) for k in FIELDS})
        if len(self.rows) >= BATCH:
            self.flush()
        yield from ()

    def flush(self) -> None:
        if self.rows:
            self.db.table("articles").insert_all(self.rows, pk="url", replace=True)
            self.count += len(self.rows)
            self.rows = []

    def closed(self, reason: str) -> None:
        self.flush()
        self.db.close()


def _plain(value: Any) -> Any:
    return ", ".join(map(str, value)) if isinstance(value, list) else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--urls", required=True, help="file of article URLs, one a line")
    parser.add_argument("--db", required=True, help="SQLite file written")
    parser.add_argument("--fetch-only", action="store_true", help="fetch, no extraction, no storage")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="a Scrapy setting")
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.set)
    urls = Path(args.urls).read_text(encoding="utf-8").split()
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(NaiveSpider)
    process.crawl(crawler, urls=urls, db=args.db, fetch_only=args.fetch_only)
    process.start()
    spider = crawler.spider
    assert isinstance(spider, NaiveSpider)
    print(f"{'fetched' if args.fetch_only else 'stored'} {spider.count}")


if __name__ == "__main__":
    main()
