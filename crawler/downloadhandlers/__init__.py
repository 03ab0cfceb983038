"""Download handlers: the wire tee for exact capture, replay from an archive."""
