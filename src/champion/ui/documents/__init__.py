"""What each page shows, as plain documents (also served as JSON): built from the pipelines' functions."""
