"""Façades: one package per API family (cloudlink, later uc and cx) plus the developer control plane. They
translate wire requests into core calls and core results into the family's wire shape; no rule lives here."""
