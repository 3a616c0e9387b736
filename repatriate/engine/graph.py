"""Build the networkx graph of legal structures (nodes) and channels (edges).

The graph is a plain ``MultiDiGraph``: one edge per channel in force on a date,
from the first to the last structure of its path, keyed by the channel id.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..rulebase.records import RuleBase

if TYPE_CHECKING:
    import networkx as nx

SOURCE = "hk_issuer_spv"
SINK = "asset_holder"


def build_graph(rb: RuleBase, as_of: dt.date) -> nx.MultiDiGraph:
    """The graph of channels in force on ``as_of``.

    Parameters
    ----------
    rb : RuleBase
    as_of : date

    Returns
    -------
    networkx.MultiDiGraph
        Node attributes ``name`` and ``role``; edge attributes ``channel``, ``hops`` (the
        structures the channel passes through) and ``location``.
    """
    import networkx as nx

    g = nx.MultiDiGraph(digest=rb.digest, as_of=as_of.isoformat())
    for sid, st in rb.structures.items():
        g.add_node(sid, name=st.name.en, name_zh=st.name.zh, role=st.role)
    for cid, ch in rb.channels.items():
        if ch.valid.in_force(as_of):
            g.add_edge(ch.path[0], ch.path[-1], key=cid, channel=cid, hops=list(ch.path), location=ch.location)
    return g


def channel_paths(rb: RuleBase, as_of: dt.date) -> list[tuple[str, ...]]:
    """Every sequence of channels that carries money from the SPV to the asset holder."""
    from . import memo

    key = (rb.digest, as_of)
    paths: tuple[tuple[str, ...], ...] | None = memo.PATHS.get(key)
    if paths is None:
        import networkx as nx

        g = build_graph(rb, as_of)
        found: set[tuple[str, ...]] = set()
        if SOURCE in g and SINK in g:
            found = {tuple(k for _, _, k in p) for p in nx.all_simple_edge_paths(g, SOURCE, SINK)}
        paths = memo.PATHS.put(key, tuple(sorted(found)))
    return list(paths)


def full_path(rb: RuleBase, channels: tuple[str, ...]) -> tuple[str, ...]:
    """The structures a sequence of channels passes through, in order."""
    nodes: list[str] = []
    for cid in channels:
        hops = rb.channels[cid].path
        nodes.extend(hops if not nodes else hops[1:])
    return tuple(nodes)
