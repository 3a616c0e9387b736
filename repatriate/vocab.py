"""The closed vocabularies of a profile, shared by the models, the profile and the CLI."""

ASSET_CLASSES = ("equity", "abs", "debt")
HOLDER_TYPES = ("private", "soe", "lgfv", "listed", "fie", "financial")
# who controls the HK SPV: the asset holder's group, a third party, or mainland individuals
# (then a SAFE Circular 37 registration, not ODI filings)
SPV_OWNERS = ("group", "third_party", "individual")
# how the tokens reach investors in Hong Kong: a licensed VATP, or a licensed intermediary (SFC 23EC52)
DISTRIBUTIONS = ("vatp", "intermediary")
# whether the asset holder is a high-tech, "specialised and sophisticated" or technology-based SME
# (SAFE's foreign-debt facilitation quota): no, qualified, or also selected under the innovation-points system
TECH_SME = ("no", "qualified", "innovation_points")
