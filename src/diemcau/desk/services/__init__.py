"""Every change of the operations desk goes through these services (one transaction each,
permission-checked, audited)."""
