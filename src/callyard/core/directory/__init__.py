"""The directory: accounts (partner → customer), users, groups, contacts, applications/clients, photos and
the mail outbox. Tenant isolation and role rules are enforced here, for every API family."""
