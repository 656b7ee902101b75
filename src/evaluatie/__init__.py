"""evaluatie."""
