"""Stage 1, discover: find one submission per student (folders, archives) and stage clean copies."""
