"""repatriate: plan the legal routes that bring offshore (HK SPV / RWA) proceeds back to the mainland.

A script needs four names: ``load_rulebase``, ``plan_route`` (one asset), ``plan_many``
(an iterable of assets) and ``plan_to_dict`` (the JSON contract of ``route``).
"""

__version__ = "0.2.0"

__all__ = ["load_rulebase", "plan_route", "plan_many", "plan_to_dict", "allocate", "RepatriateError", "__version__"]


def __getattr__(name: str):
    # Lazy, so that `repatriate --version` and `--help` import nothing heavy.
    if name in ("load_rulebase", "plan_route", "plan_many", "allocate"):
        from . import api

        return getattr(api, name)
    if name == "plan_to_dict":
        from .render.route import plan_to_dict

        return plan_to_dict
    if name == "RepatriateError":
        from .errors import RepatriateError

        return RepatriateError
    raise AttributeError(name)
