// rfs.rep_bandwidth / rfs.rei_bandwidth (spec §7.2 metrics: KB/s averaged over the last 3 s, on the primary):
// from cumulative byte counters sampled about once a second, the average rate over a sliding window. Pure.
export class BandwidthMeter {
  readonly #samples: { at: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 3000) {}

  /** Adds a sample of the cumulative counter; returns the average KB/s over the window (0 until 2 samples). */
  sample(at: number, cumulativeBytes: number): number {
    const s = this.#samples;
    // A counter that went backwards belongs to a new replication process: start over.
    if (s.length > 0 && cumulativeBytes < s[s.length - 1].bytes) s.length = 0;
    s.push({ at, bytes: cumulativeBytes });
    while (s.length > 2 && s[1].at <= at - this.windowMs) s.shift();
    if (s.length < 2) return 0;
    const first = s[0], last = s[s.length - 1];
    const ms = last.at - first.at;
    return ms <= 0 ? 0 : Math.round((last.bytes - first.bytes) / 1024 / (ms / 1000));
  }

  reset(): void {
    this.#samples.length = 0;
  }
}
