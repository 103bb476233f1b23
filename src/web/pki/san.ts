// Subject alternative names: the addresses and host names a server certificate is valid for. Clients
// compare the host of the URL they used with these, so every address a node is reached by must be here.
import * as x509 from "@peculiar/x509";

export type SanEntry = { readonly type: "ip" | "dns"; readonly value: string };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Canonical text of an IP literal (brackets dropped, IPv6 compressed), or null when not an IP. */
export function normalizeIp(text: string): string | null {
  const t = text.trim().replace(/^\[(.*)\]$/, "$1");
  if (IPV4.test(t)) return t;
  if (!t.includes(":")) return null;
  try {
    return new URL(`http://[${t}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
}

/** Classifies one address as written in cluster.xml or on the command line. */
export function sanEntryFor(address: string): SanEntry {
  const ip = normalizeIp(address);
  return ip ? { type: "ip", value: ip } : { type: "dns", value: address.trim().toLowerCase() };
}

/** Why an entry cannot go into a certificate, or null when it can. */
export function validateSanEntry(e: { type: string; value: string }): string | null {
  if (e.type === "ip") return normalizeIp(e.value) ? null : `'${e.value}' is not an IP address`;
  if (e.type !== "dns") {
    return `subject alternative name of type '${e.type}' is not accepted (IP and DNS only)`;
  }
  const v = e.value;
  if (v.length > 253 || v !== v.toLowerCase()) return `'${v}' is not a lower-case DNS name`;
  return v.split(".").every((l) => DNS_LABEL.test(l)) ? null : `'${v}' is not a DNS name`;
}

export function formatSan(e: SanEntry): string {
  return `${e.type === "ip" ? "IP" : "DNS"}:${e.value}`;
}

/** Adds entries in order, once each (IPs compared in canonical form, names case-insensitively). */
export function uniqueSans(entries: Iterable<SanEntry>): SanEntry[] {
  const out: SanEntry[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    const value = e.type === "ip" ? normalizeIp(e.value) ?? e.value : e.value.toLowerCase();
    const key = `${e.type}:${value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ type: e.type, value });
  }
  return out;
}

export function sanEntriesOf(cert: x509.X509Certificate): SanEntry[] {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (!ext) return [];
  return ext.names.toJSON()
    .filter((n) => n.type === "ip" || n.type === "dns")
    .map((n) =>
      n.type === "ip" ? { type: "ip", value: normalizeIp(n.value) ?? n.value } : {
        type: "dns",
        value: n.value.toLowerCase(),
      }
    );
}

/** True when the certificate names this host (a DNS name or an IP literal), as a TLS client would check it. */
export function sansCover(sans: readonly SanEntry[], host: string): boolean {
  const want = sanEntryFor(host);
  if (want.type === "ip") return sans.some((s) => s.type === "ip" && normalizeIp(s.value) === want.value);
  return sans.some((s) => s.type === "dns" && s.value.toLowerCase() === want.value);
}
