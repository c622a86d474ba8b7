"""backbone's one SQL layer: fingerprints and statement kinds shared by review, profile and debug."""
