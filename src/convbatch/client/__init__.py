"""The people's CLI over the HTTP API: ``convbatch send`` (a CSV in batches of 1000, resumable)
and ``convbatch status`` (counts as progress bars). It speaks only the Batch API's wire format,
so it works against any server of that API."""
