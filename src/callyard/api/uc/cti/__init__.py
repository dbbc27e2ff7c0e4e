"""The CTI groups of the UC family: Call Control (CTI), Call Recording (CTI) and Call State, over the engine."""
