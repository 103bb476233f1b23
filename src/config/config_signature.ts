// A stable fingerprint of a configuration file, compared between nodes (confinfo) to tell whether
// they run the same configuration. Normalization removes differences no parser sees: a byte-order
// mark, CRLF/CR line ends, trailing spaces and leading/trailing blank lines.

export function normalizeConfigText(text: string): string {
  return text
    .replace(/^\uFEFF/, "")
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.replace(/[ \t]+$/, ""))
    .join("\n")
    .replace(/^\n+/, "")
    .replace(/\n+$/, "");
}

/** Hex SHA-256 of the normalized text. */
export async function configSignature(text: string): Promise<string> {
  const bytes = new TextEncoder().encode(normalizeConfigText(text));
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
