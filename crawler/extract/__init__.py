"""Pure extraction, a page in and a record out, without Scrapy: ``article.py`` (site template
first, then the generic path), ``generic.py``, ``pagemeta.py``, ``bylines.py``, ``dates.py``,
``urls.py``, the record (``items.py``) and the site description types (``siteconfig.py``).

May import ``storage`` (text normalisation) and nothing else of the project.
"""
