// When a holding secondary of an <rfs syncat="..."> module synchronises again (spec §7.2): at the next time of
// the crontab schedule after it began holding, or at once when an administrator sets rfs.syncat to up
// (`safekit set -r rfs.syncat -v up -m AM`). A schedule that passes while the secondary is already
// synchronising is not queued: the next one counts from the moment it holds again.
import { type CronSchedule, nextCronTime, parseCron } from "../core/cron_schedule.ts";

export class SyncatScheduler {
  readonly #cron: CronSchedule;
  #next: number | null = null;
  #holding = false;

  constructor(spec: string) {
    this.#cron = parseCron(spec);
  }

  /** The time of the next synchronisation, while holding (for the log and the console). */
  get next(): number | null {
    return this.#holding ? this.#next : null;
  }

  /**
   * Called on every tick with the automaton's hold flag and the rfs.syncat resource; true when the
   * secondary must synchronise now. `onHold` reports the next schedule when a hold begins.
   */
  due(now: number, holding: boolean, resource: string | undefined, onHold?: (next: number | null) => void) {
    if (!holding) {
      this.#holding = false;
      return false;
    }
    if (!this.#holding) {
      this.#holding = true;
      this.#next = nextCronTime(this.#cron, now);
      onHold?.(this.#next);
      return false;
    }
    if (resource === "up") return true;
    return this.#next !== null && now >= this.#next;
  }
}
