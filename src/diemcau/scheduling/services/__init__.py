"""Every change to meetings goes through these services (one transaction each, audited)."""
