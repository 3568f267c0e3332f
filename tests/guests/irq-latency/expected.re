irq-latency: n \d+ period_ns \d+ clock (kvmclock|tsc)
timer_deadline_to_handler_ns median \d+ min \d+ max \d+
self_ipi_roundtrip_ns median \d+ min \d+ max \d+
