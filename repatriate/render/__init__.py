"""Renderers: a plan or a report in, text (table, md, csv, json, html) out.

Renderers never compute; they only format what the engine returned.
"""
