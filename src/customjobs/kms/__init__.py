"""Customer-managed encryption keys: a KMS interface, a local key ring, and what is sealed with them.

A job with `encryptionSpec.kmsKeyName` has its stored spec (specs.py), its replica logs
once it ends (logs.py) and the files under its output directory (outputs.py) sealed
with a fresh data key that the named key wraps (envelope.py), so a plug-in that reaches
a real KMS only has to wrap and unwrap small keys (base.py).
"""
