"""The bundled sample study: a simulated breast phantom made by the project's own code."""
