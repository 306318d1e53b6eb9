"""bus-engine, the command line: one module per subcommand, each a thin call into the engine.

A subcommand module defines NAME, HELP, add_arguments(parser) and run(args) -> exit code.
`main` discovers them, so adding a command means adding one file here.
"""
