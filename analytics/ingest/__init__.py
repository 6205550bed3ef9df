"""Getting data in: readers, header synonyms, the upload pipeline, registry, matching, categories."""
