// How much a module archive may hold, and the checks that enforce it twice: once on the sizes
// the archive declares (to refuse a bomb before inflating a byte), and again on the bytes that
// actually come out of the inflater (because declared sizes are written by the attacker).

export type SafeArchiveLimits = {
  readonly maxEntries: number;
  readonly maxTotalBytes: number;
  readonly maxEntryBytes: number;
  /** Largest uncompressed:compressed ratio allowed for entries over `ratioThresholdBytes`. */
  readonly maxRatio: number;
  readonly ratioThresholdBytes: number;
};

const MiB = 1024 * 1024;

export const DEFAULT_SAFE_ARCHIVE_LIMITS: SafeArchiveLimits = {
  maxEntries: 10_000,
  maxTotalBytes: 256 * MiB,
  maxEntryBytes: 64 * MiB,
  maxRatio: 200,
  // Small text files legitimately compress far better than 200:1 (a userconfig full of blanks).
  ratioThresholdBytes: 1 * MiB,
};

export type SizeViolation = {
  readonly code: "entry_too_large" | "total_too_large" | "compression_ratio" | "size_mismatch";
  readonly reason: string;
};

function formatBytes(n: number): string {
  return n >= MiB && n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`;
}

/**
 * Checks an entry's declared sizes; `totalBefore` is the sum declared by the entries before it.
 * Returns null when the entry may be read.
 */
export function declaredSizeViolation(
  declared: { readonly uncompressed: number; readonly compressed: number },
  totalBefore: number,
  limits: SafeArchiveLimits,
): SizeViolation | null {
  if (declared.uncompressed > limits.maxEntryBytes) {
    return {
      code: "entry_too_large",
      reason: `declares ${declared.uncompressed} bytes (at most ${
        formatBytes(limits.maxEntryBytes)
      } per entry)`,
    };
  }
  if (totalBefore + declared.uncompressed > limits.maxTotalBytes) {
    return {
      code: "total_too_large",
      reason: `brings the archive's declared size over ${formatBytes(limits.maxTotalBytes)} in total`,
    };
  }
  return ratioViolation(declared.uncompressed, declared.compressed, limits, "declares");
}

function ratioViolation(
  uncompressed: number,
  compressed: number,
  limits: SafeArchiveLimits,
  verb: string,
): SizeViolation | null {
  if (uncompressed <= limits.ratioThresholdBytes) return null;
  if (uncompressed <= limits.maxRatio * compressed) return null;
  const ratio = compressed === 0 ? "an infinite" : `a ${Math.floor(uncompressed / compressed)}:1`;
  return {
    code: "compression_ratio",
    reason: `${verb} ${ratio} compression ratio (at most ${limits.maxRatio}:1 for entries over ` +
      `${formatBytes(limits.ratioThresholdBytes)}; a zip bomb?)`,
  };
}

/**
 * Tracks the bytes actually inflated from one entry. `add` is called with each chunk's length
 * as it comes out of the inflater, so a bomb is stopped within one chunk of crossing a limit,
 * whatever its headers say.
 */
export class InflationGuard {
  #entryBytes = 0;
  readonly #declared: { readonly uncompressed: number; readonly compressed: number };
  readonly #totalBefore: number;
  readonly #limits: SafeArchiveLimits;

  constructor(
    declared: { readonly uncompressed: number; readonly compressed: number },
    totalBefore: number,
    limits: SafeArchiveLimits,
  ) {
    this.#declared = declared;
    this.#totalBefore = totalBefore;
    this.#limits = limits;
  }

  get entryBytes(): number {
    return this.#entryBytes;
  }

  /** Returns the violation the new chunk causes, or null. */
  add(chunkBytes: number): SizeViolation | null {
    this.#entryBytes += chunkBytes;
    const n = this.#entryBytes;
    if (n > this.#declared.uncompressed) {
      return {
        code: "size_mismatch",
        reason: `inflates to more than its declared ${this.#declared.uncompressed} bytes (forged size)`,
      };
    }
    if (n > this.#limits.maxEntryBytes) {
      return {
        code: "entry_too_large",
        reason: `inflates to more than ${formatBytes(this.#limits.maxEntryBytes)} (at most per entry)`,
      };
    }
    if (this.#totalBefore + n > this.#limits.maxTotalBytes) {
      return {
        code: "total_too_large",
        reason: `brings the archive over ${formatBytes(this.#limits.maxTotalBytes)} in total`,
      };
    }
    return ratioViolation(n, this.#declared.compressed, this.#limits, "inflates with");
  }

  /** Called once the inflater is done: fewer bytes than declared is a forged size too. */
  finish(): SizeViolation | null {
    if (this.#entryBytes === this.#declared.uncompressed) return null;
    return {
      code: "size_mismatch",
      reason:
        `inflates to ${this.#entryBytes} bytes but declares ${this.#declared.uncompressed} (forged size)`,
    };
  }
}
