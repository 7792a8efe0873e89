"""Where records are linked: every accepted source record resolved to a person."""
