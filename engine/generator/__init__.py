"""The tumor generator: context window, physics draft, conditional diffusion pipeline, training."""


def run_job(job):
    """The main job's synthesis walk (see engine.generator.job); imported lazily: it pulls in torch."""
    from engine.generator.job import run_job as _run_job

    return _run_job(job)
