"""Operating Bousla: `bousla run` (the process manager), `bousla train`, the local stack the
end-to-end tests and benchmarks start, scaling out (nginx, systemd), benchmarks and the fake
Twilio and Telegram APIs they talk to."""
