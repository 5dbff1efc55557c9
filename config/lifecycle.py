"""Whether this web node is draining: a flag in memory shared by the gunicorn master and the
workers it forks (an anonymous shared mapping made when this module is first imported, which the
master does before it forks). `payintents run web` sets it on SIGTERM; `/readyz` answers 503
while it is set, so a load balancer takes the node out before it stops listening."""

import mmap

_FLAG = mmap.mmap(-1, 1)  # MAP_SHARED | MAP_ANONYMOUS: a forked child sees the parent's writes


def start_draining() -> None:
    _FLAG[0] = 1


def draining() -> bool:
    return _FLAG[0] == 1
