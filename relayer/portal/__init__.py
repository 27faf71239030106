"""The bridge's user-facing portal: a static page and a public status API (``/v1``) that
answers with the view of the whole validator set, not of one node (docs/portal.md).

User-facing tooling: the validator's relayer process never imports it
(tests/unit/test_layers.py). The pure parts (``aggregate``, ``ratelimit``, ``inputs``)
take every input as an argument; ``upstream`` asks the validators, ``app`` serves.
"""
