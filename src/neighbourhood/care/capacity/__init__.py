"""Pages for partnership leads and analysts: the workforce map and capacity scenarios."""
