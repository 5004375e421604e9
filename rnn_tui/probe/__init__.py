"""Looking inside a recurrent network (d2l §8.7, §9.1–9.2): gradients through time, clipping,
truncation, connectivity and the activations of the hidden units. Uses torch; no Textual."""
