"""The rule base: pydantic models, runtime records, the loader and the condition matchers.

load -> validate -> freeze: everything the engine reads comes from here.
"""
