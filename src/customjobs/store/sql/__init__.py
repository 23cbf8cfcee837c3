"""store/sql package."""
