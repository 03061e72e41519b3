"""Export the person's reviewed data as training datasets (read-only on the database)."""
