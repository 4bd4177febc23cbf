"""The hall simulator: visitors and clerks driving the real system.

- engine: the discrete-event simulation (HallSim) and the Driver it acts through;
- profile: the configured behaviour (arrivals by hour and weekday, ages, service
  times, outcomes, returns);
- drivers: the in-process driver (services with `at=`) and the replay-format Recorder;
- days: whole business days, and their export (`simulate_halls --days N --export DIR`);
- live: the running demo, over the HTTP API of a running server (`make demo`);
- camera: what the hall's cameras see: zone counts and rendered frames;
- people, setup: made-up ID numbers; the demo city's halls as desks and service mix.

`queueing.demo.day` (today's history for `load_demo`) runs the same engine.
"""
