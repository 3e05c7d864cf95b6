"""HTTP edge: auth, error envelope, body decoding, routing helpers."""
