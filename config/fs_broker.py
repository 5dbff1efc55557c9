"""kombu's file-system transport with whole messages: what `make run` uses with no Redis.

kombu's own `_put` creates the message file under its final name and writes the body after; a
worker polling the folder in between moves and reads an empty or half-written file and dies on
its JSON (`JSONDecodeError`), taking `make run` down with it. Here a message is written to a
hidden temporary file first (a name no queue matches) and renamed into place: `os.replace` is
atomic within a folder, so a worker sees a message whole or not at all."""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        body = str_to_bytes(filesystem.dumps(payload))
        token = uuid.uuid4()
        name = f"{int(round(monotonic() * 1000))}_{token}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{token}.partial")
        try:
            with open(partial, "wb") as f:
                f.write(body)
            os.replace(partial, final)
        except OSError as exc:
            try:
                os.remove(partial)
            except OSError:
                pass
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
