"""Services of the core app: users' API tokens and accounts."""
