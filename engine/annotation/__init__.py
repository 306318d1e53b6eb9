"""Assisted annotation: click-to-segment, edge snapping, contour propagation through cine loops."""
