"""The closed vocabularies of a profile, shared by the models, the profile and the CLI."""

ASSET_CLASSES = ("equity", "abs", "debt")
HOLDER_TYPES = ("private", "soe", "lgfv", "listed", "fie", "financial")
SPV_OWNERS = ("group", "third_party")
# how the tokens reach investors in Hong Kong: a licensed VATP, or a licensed intermediary (SFC 23EC52)
DISTRIBUTIONS = ("vatp", "intermediary")
