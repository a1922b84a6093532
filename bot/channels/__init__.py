"""Channel adapters: they translate between a channel's wire format and Inbound/Reply, nothing more."""
