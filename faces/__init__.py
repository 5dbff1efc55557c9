"""Each seed system's own face: thin translations over the same services, selectors and presenters."""
