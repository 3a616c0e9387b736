"""The engine: profiles, places, the channel graph, route search and ranking, compare.

It reads the frozen rule base and returns plans; it never prints.
"""
