// MetadataService: the metadata function.
