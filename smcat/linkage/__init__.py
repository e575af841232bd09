"""Record linkage: one view of people across a company's systems (`smcat link`).

Customer records imported per system (`smcat import customers`) are linked into people by
deterministic rules, then by a Fellegi-Sunter model (splink on DuckDB), with reviewers'
decisions on uncertain pairs respected; devices follow the records they were signed in as.
"""
