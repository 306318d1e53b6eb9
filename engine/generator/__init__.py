"""The tumor generator: context window, physics draft, conditional diffusion pipeline, training."""
