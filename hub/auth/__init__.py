"""Tenants' users, roles, tokens, API keys and the audit log; ``scope`` decides what a caller may see."""
