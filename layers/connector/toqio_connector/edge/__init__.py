"""The HTTP edge of the customers API: request checks, caller identity, envelopes."""
