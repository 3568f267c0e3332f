rtc-time: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d
ok   date and time are valid
ok   periodic: interrupts with PF and IRQF in register C
ok   periodic, 1024 Hz: period 976\.6 us \+-2%
ok   update-ended: interrupts with UF in register C
ok   update-ended: two come 1 s \+-2% apart
ok   update-ended: the seconds advanced by one
rtc: 6 passed, 0 failed
