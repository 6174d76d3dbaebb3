"""Where each channel of each node comes from.

Every channel (last-axis entry) of every node output is traced back to the
node that created it: a producer (``Dense``, ``Conv2D``) or the network
input. Channelwise layers pass sources through; ``Flatten`` tiles them over
the spatial positions; ``Concat`` concatenates them; ``Add`` takes its first input's.
"""

import numpy as np

from .network import INPUT

__all__ = ["channel_sources"]


def channel_sources(net):
    """Map node name -> (source node names (object array), source channels (int array)), one per output channel."""
    c_in = net.input_shape[-1]
    src = {INPUT: (np.array([INPUT] * c_in, dtype=object), np.arange(c_in))}
    for n in net.nodes:
        layer = n.layer
        if layer.role == "producer":
            c = layer.n_channels
            src[n.name] = (np.array([n.name] * c, dtype=object), np.arange(c))
        elif layer.role == "concat":
            names, chans = [], []
            for i, inp in enumerate(n.inputs):
                nm, ch = src[inp]
                sel = None if layer.select is None else layer.select[i]
                names.append(nm if sel is None else nm[sel])
                chans.append(ch if sel is None else ch[sel])
            src[n.name] = (np.concatenate(names), np.concatenate(chans))
        elif layer.role == "add":  # a sum's channel is traced to its first input (all carry it in unison)
            nm, ch = src[n.inputs[0]]
            sel = None if layer.select is None else layer.select[0]
            src[n.name] = (nm, ch) if sel is None else (nm[sel], ch[sel])
        elif layer.role == "flatten":
            nm, ch = src[n.inputs[0]]
            reps = int(np.prod(layer.input_shape[:-1]))
            src[n.name] = (np.tile(nm, reps), np.tile(ch, reps))
        elif layer.role == "gate" and layer.out_index is not None:
            nm, ch = src[n.inputs[0]]
            src[n.name] = (nm[layer.out_index], ch[layer.out_index])
        else:
            src[n.name] = src[n.inputs[0]]
    return src
