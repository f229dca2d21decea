"""newsbot core: ingest, clean, chunk, embed, store, retrieve, answer, digest (no Discord here)."""
