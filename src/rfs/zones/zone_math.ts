// Zone arithmetic for the per-file modification bitmaps (spec §7.2, `ruzone_blocksize`): which zones a byte
// range touches, and which byte ranges a bitmap asks the reintegration to copy. Pure.

export type ByteRange = { readonly offset: number; readonly length: number };

/** Indexes of the first and last zone touched by [offset, offset+length); null for an empty range. */
export function zonesTouched(
  offset: number,
  length: number,
  zoneSize: number,
): { first: number; last: number } | null {
  if (length <= 0) return null;
  return { first: Math.floor(offset / zoneSize), last: Math.floor((offset + length - 1) / zoneSize) };
}

/** Sets bits first..last (inclusive), growing the bitmap when needed; returns the (possibly new) bitmap. */
export function setZoneBits(bits: Uint8Array, first: number, last: number): Uint8Array {
  const need = (last >> 3) + 1;
  let out = bits;
  if (need > bits.length) {
    // Grows by doubling so a file written sequentially does not reallocate on every zone.
    out = new Uint8Array(Math.max(need, bits.length * 2));
    out.set(bits);
  }
  for (let z = first; z <= last; z++) out[z >> 3] |= 1 << (z & 7);
  return out;
}

export function isZoneSet(bits: Uint8Array, zone: number): boolean {
  const byte = zone >> 3;
  return byte < bits.length && (bits[byte] & (1 << (zone & 7))) !== 0;
}

export function countZones(bits: Uint8Array): number {
  let n = 0;
  for (const b of bits) for (let v = b; v !== 0; v &= v - 1) n++;
  return n;
}

/**
 * The byte ranges to copy from a file of `fileSize` bytes: every set zone, plus everything from the zone
 * holding `tailFrom` to the end (a truncation moved the end of file: whatever lies past it on the
 * secondary is stale). Adjacent zones are merged, ranges are clipped to the file, in increasing order.
 */
export function rangesToCopy(
  bits: Uint8Array,
  tailFrom: number | null,
  zoneSize: number,
  fileSize: number,
): ByteRange[] {
  const zoneCount = Math.ceil(fileSize / zoneSize);
  const tailZone = tailFrom === null ? Infinity : Math.floor(tailFrom / zoneSize);
  const out: { offset: number; length: number }[] = [];
  for (let z = 0; z < zoneCount; z++) {
    if (!(z >= tailZone || isZoneSet(bits, z))) continue;
    const offset = z * zoneSize;
    const length = Math.min(zoneSize, fileSize - offset);
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.offset + prev.length === offset) prev.length += length;
    else out.push({ offset, length });
  }
  return out;
}
