"""Rule tables: the machinery (:mod:`.machinery`, :mod:`.table`) and one table per resource
(:mod:`.listener`). Everything the provider and the fake know about a field is derived from
its table."""
