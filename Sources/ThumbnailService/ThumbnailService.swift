// ThumbnailService: the thumbnail function.
