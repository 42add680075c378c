"""Test doubles of the live sites, shipped for the offline demo, the benchmarks and the tests.

``replica.py`` (the pages of ``tests/sites/<key>/`` as the site serves them), ``server.py``
(serves them on 127.0.0.1), ``faults.py`` (fault injection), ``synthetic.py`` (a large
generated site), ``corpus.py`` (the replica articles as stored) and ``commands.py`` (the
command in a child process): the helpers the tests and the benchmarks share. May import
``distributed``, ``crawl``, ``sites``, ``extract`` and ``storage``; nothing in the product
imports it except the ``replica`` and ``demo`` commands.
"""
