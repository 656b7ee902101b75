"""The seed every resampling procedure uses when none is given: a rerun of the same
inputs gives the same draws, so the same p-values and the same report bytes."""

DEFAULT_SEED = 20_241_203
