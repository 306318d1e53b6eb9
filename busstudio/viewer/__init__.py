"""Qt views of the image model: the image view, the overlay that draws contours, the frame scrubber."""
