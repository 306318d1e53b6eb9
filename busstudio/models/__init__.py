"""Qt-free models of the app: they hold state and emit events; views draw them and forward input."""
