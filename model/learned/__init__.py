"""The learned collapse generator (see README.md): networks, training, evaluation."""
