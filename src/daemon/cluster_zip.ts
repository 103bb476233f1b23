// The cluster bundle carried by `safekit cluster export` and `safekit -H "*" -G`: cluster.xml plus the
// cluster key, in a zip (the form `safekit cluster config FILE.zip` accepts, spec §3.2).
import {
  BlobWriter,
  TextReader,
  Uint8ArrayReader,
  Uint8ArrayWriter,
  ZipReader,
  ZipWriter,
} from "@zip.js/zip.js";
import { NodeError } from "./node_error.ts";

export type ClusterBundle = { xml: string; keyHex: string | null };

const MAX_ENTRY = 1024 * 1024;

export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4;
}

export async function writeClusterBundle(b: ClusterBundle): Promise<Uint8Array> {
  const w = new ZipWriter(new Uint8ArrayWriter(), { level: 6 });
  await w.add("cluster.xml", new TextReader(b.xml));
  if (b.keyHex) await w.add("cluster.key", new TextReader(b.keyHex + "\n"));
  return await w.close();
}

export async function readClusterBundle(bytes: Uint8Array): Promise<ClusterBundle> {
  let reader: ZipReader<unknown>;
  try {
    reader = new ZipReader(new Uint8ArrayReader(bytes));
  } catch {
    throw new NodeError("the cluster bundle is not a valid zip file");
  }
  try {
    let entries;
    try {
      entries = await reader.getEntries();
    } catch (e) {
      throw new NodeError(`the cluster bundle is not a valid zip file (${(e as Error).message})`);
    }
    let xml: string | null = null;
    let keyHex: string | null = null;
    for (const e of entries) {
      if (e.directory) continue;
      if (e.filename !== "cluster.xml" && e.filename !== "cluster.key") {
        throw new NodeError(
          `the cluster bundle holds an unexpected entry '${e.filename}' (only cluster.xml and cluster.key)`,
        );
      }
      if (e.uncompressedSize > MAX_ENTRY) {
        throw new NodeError(`the cluster bundle entry '${e.filename}' is too large`);
      }
      const data = await e.getData!(new BlobWriter());
      if (data.size > MAX_ENTRY) throw new NodeError(`the cluster bundle entry '${e.filename}' is too large`);
      const text = await data.text();
      if (e.filename === "cluster.xml") xml = text;
      else keyHex = text.trim();
    }
    if (xml === null) throw new NodeError("the cluster bundle has no cluster.xml");
    if (keyHex !== null && !/^[0-9a-f]{64}$/.test(keyHex)) {
      throw new NodeError("the cluster bundle's cluster.key is damaged (expected 64 hex digits)");
    }
    return { xml, keyHex };
  } finally {
    await reader.close();
  }
}
