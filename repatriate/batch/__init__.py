"""Batch: a portfolio file in, one result row per input record out.

``readers`` (bytes to records) -> ``rows`` (record to profile to plan) -> ``writers`` (rows to a file
through ``files.atomic_write``); ``run`` orchestrates them (``run_batch``) and sums up (``Summary``).
"""
