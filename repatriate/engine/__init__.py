"""The engine: profiles, places, the channel graph, route evaluation, timeline, ranking, search.

It reads the frozen rule base and returns plans; it never prints. A newcomer's order:
``profile`` (the asset), ``places`` (where a vehicle may sit), ``graph`` (channel paths),
``evaluate`` (one route against the rules), ``timeline`` (the schedule), ``rank``,
``search`` (``plan``), ``results`` (what a plan holds), ``memo`` (every cache), ``compare``.
"""
