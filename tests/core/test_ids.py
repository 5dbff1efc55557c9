"""Random ids: the alphabet's characters equally likely, never repeated across threads, and a
forked process never reuses the characters its parent had drawn but not used."""

from __future__ import annotations

import collections
import os
import threading

from core.ids import ALPHABET, generate_id, random_base62


def test_an_id_is_its_prefix_and_24_characters_of_the_alphabet():
    value = generate_id("pi")
    assert value.startswith("pi_") and len(value) == 27
    assert set(value[3:]) <= set(ALPHABET)


def test_every_character_is_about_equally_likely():
    counts = collections.Counter("".join(random_base62() for _ in range(20_000)))
    expected = 20_000 * 24 / len(ALPHABET)  # about 7,742 of each
    assert set(counts) == set(ALPHABET)
    # 6 standard deviations either side: a biased mapping (b % 62 over all 256 bytes) puts
    # the first 8 characters about 25 % above the others, far outside this
    assert all(abs(n - expected) < 6 * expected**0.5 for n in counts.values()), counts


def test_threads_never_draw_the_same_id():
    drawn: list[list[str]] = [[] for _ in range(8)]

    def draw(out: list[str]) -> None:
        out.extend(random_base62() for _ in range(2_000))

    threads = [threading.Thread(target=draw, args=(out,)) for out in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [value for out in drawn for value in out]
    assert len(set(everything)) == len(everything) == 16_000


def test_a_forked_child_does_not_reuse_what_the_parent_drew():
    random_base62()  # this thread now holds a page of characters, most not used yet
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, to the parent
        try:
            os.write(write, random_base62().encode())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(pid, 0)
    parents_next = random_base62()
    assert len(child) == 24 and child != parents_next
