ok   rng: found
ok   rng: a good request
ok   rng: self-loop via NEXT: (used|needs reset|no answer)
ok   rng: 2-cycle via NEXT: (used|needs reset|no answer)
ok   rng: head index = queue size: (used|needs reset|no answer)
ok   rng: buffer at 1 TiB: (used|needs reset|no answer)
ok   rng: addr \+ len past 2\^64: (used|needs reset|no answer)
ok   rng: zero-length buffer: (used|needs reset|no answer)
ok   rng: 0xffffffff-byte buffer: (used|needs reset|no answer)
ok   rng: indirect table of n \* 16 \+ 8 bytes: (used|needs reset|no answer)
ok   rng: indirect table at 1 TiB: (used|needs reset|no answer)
ok   rng: nested indirect table: (used|needs reset|no answer)
ok   rng: INDIRECT with NEXT: (used|needs reset|no answer)
ok   rng: readable buffer after a writable one: (used|needs reset|no answer)
ok   rng: avail idx ahead by queue size \+ 1: (used|needs reset|no answer)
ok   at least one virtio device
virtio-hostile: 16 passed, 0 failed
