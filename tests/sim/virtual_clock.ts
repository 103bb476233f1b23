// Simulated time: timers fire only when the test advances the clock, in time order (ties in scheduling order),
// so a cluster of nodes runs deterministically and thousands of pulses take milliseconds.

export interface Scheduler {
  now(): number;
  /** Runs `fn` once after `ms`; returns a function that cancels it. */
  schedule(ms: number, fn: () => void): () => void;
}

type Timer = { at: number; order: number; fn: () => void; cancelled: boolean };

export class VirtualClock implements Scheduler {
  #now: number;
  #order = 0;
  #queue: Timer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  schedule(ms: number, fn: () => void): () => void {
    const timer: Timer = { at: this.#now + Math.max(0, ms), order: this.#order++, fn, cancelled: false };
    // Binary insertion keeps the queue sorted by (at, order).
    let lo = 0, hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.#queue[mid];
      if (q.at < timer.at || (q.at === timer.at && q.order < timer.order)) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Runs `fn` every `ms` starting `ms` from now, until cancelled. */
  every(ms: number, fn: () => void): () => void {
    let cancelNext = () => {};
    let stopped = false;
    const arm = () => {
      cancelNext = this.schedule(ms, () => {
        if (stopped) return;
        arm();
        fn();
      });
    };
    arm();
    return () => {
      stopped = true;
      cancelNext();
    };
  }

  /** Fires every timer due up to `t` (including timers scheduled meanwhile), then sets the time to `t`. */
  advanceTo(t: number): void {
    while (this.#queue.length > 0 && this.#queue[0].at <= t) {
      const timer = this.#queue.shift()!;
      this.#now = timer.at;
      if (!timer.cancelled) timer.fn();
    }
    this.#now = Math.max(this.#now, t);
  }

  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }
}

/** Wall-clock scheduler for running the simulated network under real timers. */
export const realScheduler: Scheduler = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const id = setTimeout(fn, ms);
    return () => clearTimeout(id);
  },
};
