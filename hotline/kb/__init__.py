"""The knowledge base (一问一答): answers operators give on the spot."""
