"""Batch: a portfolio file in, one result row per input record out.
"""
