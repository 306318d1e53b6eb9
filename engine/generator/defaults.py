"""The sampling defaults, in one place for the command line, the main job, the pipeline and the app.

A plain module with no imports, so the command line can read it without loading numpy or torch.
"""

SEED = 0
STEPS = 20
GUIDANCE = 3.0
STRENGTH = 0.6  # SDEdit start from the physics draft: 1.0 is pure noise, 0.0 the draft unchanged
NATIVE_DETAIL = True  # the native outline and speckle under the model's output (engine.generator.detail)
