"""The closed vocabularies of a profile, shared by the models, the profile and the CLI."""

ASSET_CLASSES = ("equity", "abs", "debt")
HOLDER_TYPES = ("private", "soe", "lgfv", "listed", "fie", "financial")
SPV_OWNERS = ("group", "third_party")
