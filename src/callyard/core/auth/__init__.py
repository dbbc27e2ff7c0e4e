"""Identity: passwords, signing keys, token issue and verification, and the OAuth grants."""
