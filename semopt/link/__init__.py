"""Link-level models: uncoded BPSK, finite-blocklength coding, the radio channel, and the
GenED-SC symbol budget and prompt link (:mod:`semopt.link.gened`).

Conventions: ``snr`` is a *linear* received signal-to-noise ratio (``q |h|^2 / sigma^2``,
Xu et al. eq. 20) unless a name ends in ``_db``; powers are in watts unless a name ends
in ``_dbm``.
"""

from semopt.link import bpsk, channel, fbl, gened

__all__ = ["bpsk", "channel", "fbl", "gened"]
