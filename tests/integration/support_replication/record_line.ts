// The record format shared by the writer child and the checks of the durability test.

/** Fixed width so a torn tail is easy to tell from a complete record. */
export function recordLine(i: number): string {
  return `record ${String(i).padStart(8, "0")} ${"x".repeat(40)}`;
}

/** The records 1..acked that are not where they must be (line i−1 must be record i); empty when none is lost. */
export function missingRecords(text: string, acked: number): number[] {
  const lines = text.split("\n");
  const missing: number[] = [];
  for (let i = 1; i <= acked; i++) if (lines[i - 1] !== recordLine(i)) missing.push(i);
  return missing;
}
