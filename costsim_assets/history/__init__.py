"""Status-history exports: file formats, streamed writing and offline chain verification."""
