"""One module per crawled site, each holding only ``SITE = SiteConfig(...)`` (data, no Scrapy),
and ``registry.py``, which finds them. Adding a site is adding a module here (CONTRIBUTING.md).

May import ``extract`` (for the SiteConfig types) and nothing else of the project.
"""
