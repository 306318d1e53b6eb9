"""Side panels: lesions and measurements, attributes (form <-> text), generation, study browser."""
