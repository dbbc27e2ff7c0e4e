"""The developer control plane under ``/_callyard``: what the real platform cannot offer."""
