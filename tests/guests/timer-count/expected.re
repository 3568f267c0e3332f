timer-count: src=(pit|rtc|lapic) hz=\d+ secs=\d+
count \d+ expected \d+
