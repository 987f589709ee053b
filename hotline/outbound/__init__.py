"""Outbound calls: satisfaction callbacks (回访), missed-call call-backs and queue call-backs."""
