"""Link-level models: uncoded BPSK, finite-blocklength coding, and the radio channel.

Conventions: ``snr`` is a *linear* received signal-to-noise ratio (``q |h|^2 / sigma^2``,
Xu et al. eq. 20) unless a name ends in ``_db``; powers are in watts unless a name ends
in ``_dbm``.
"""

from semopt.link import bpsk, channel, fbl

__all__ = ["bpsk", "channel", "fbl"]
