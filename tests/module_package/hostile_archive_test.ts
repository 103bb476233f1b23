// One test per way a `.safe` archive can be hostile: each is refused with its own code and a
// message naming the entry, before anything on the node changes.

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  installModuleTree,
  readSafeArchive,
  type ReadSafeArchiveOptions,
  SafeArchiveError,
  type SafeArchiveErrorCode,
} from "../../src/module_package/mod.ts";
import { encode, goodEntries } from "./fixtures.ts";
import { snapshotTree } from "./tree_snapshot.ts";
import { concat, crc32, deflateRaw, type ForgedEntry, forgeZip } from "./zip_forge.ts";

type HostileCase = {
  readonly name: string;
  readonly code: SafeArchiveErrorCode;
  readonly message: string;
  readonly archive: () => Promise<Uint8Array>;
  readonly options?: ReadSafeArchiveOptions;
};

const withGood = (...extra: ForgedEntry[]) => () => forgeZip([...goodEntries, ...extra]);
const prefix = "module archive 'x.safe': ";
const payload = encode("x".repeat(5000));
const zeros2MiB = new Uint8Array(2 * 1024 * 1024);
const zeros2MiBDeflated = await deflateRaw([zeros2MiB]);
const longName = `web/${"a".repeat(4100)}`;

/** The archive with the local header name of `web/x` changed to `web/y`, central directory untouched. */
async function localHeaderNameMismatch(): Promise<Uint8Array> {
  const bytes = await forgeZip([...goodEntries, { name: "web/x", data: payload }]);
  const view = new DataView(bytes.buffer);
  for (let at = 0; at < bytes.length - 4; at++) {
    if (view.getUint32(at, true) !== 0x04034b50) continue;
    const nameLength = view.getUint16(at + 26, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 30, at + 30 + nameLength));
    if (name === "web/x") {
      bytes[at + 30 + nameLength - 1] = "y".charCodeAt(0);
      return bytes;
    }
  }
  throw new Error("local header of web/x not found");
}

const cases: HostileCase[] = [
  {
    name: "bytes that are not a zip",
    code: "not_zip",
    message: `${prefix}is not a readable zip archive: End of central directory not found`,
    archive: () => Promise.resolve(encode("#!/bin/sh\nrm -rf /\n".repeat(20))),
  },
  {
    name: "a '../' name climbing out of the module directory",
    code: "path_traversal",
    message: `${prefix}entry '../../etc/passwd' escapes the module directory (path traversal)`,
    archive: withGood({ name: "../../etc/passwd", data: encode("root::0:0::/:/bin/sh\n") }),
  },
  {
    name: "a '..' hidden inside a name that climbs out",
    code: "path_traversal",
    message: `${prefix}entry 'bin/../../outside' escapes the module directory (path traversal)`,
    archive: withGood({ name: "bin/../../outside", data: payload }),
  },
  {
    name: "a '..' segment that stays inside",
    code: "path_traversal",
    message: `${prefix}entry 'bin/../conf/x' has a '..' segment (path traversal)`,
    archive: withGood({ name: "bin/../conf/x", data: payload }),
  },
  {
    name: "an absolute Unix path",
    code: "absolute_path",
    message:
      `${prefix}entry '/etc/cron.d/evil' is an absolute path (names must be relative to the module directory)`,
    archive: withGood({ name: "/etc/cron.d/evil", data: payload }),
  },
  {
    name: "a Windows drive path",
    code: "absolute_path",
    message:
      `${prefix}entry 'C:/Windows/evil.cmd' is an absolute path (names must be relative to the module directory)`,
    archive: withGood({ name: "C:/Windows/evil.cmd", data: payload }),
  },
  {
    name: "a Windows UNC path",
    code: "absolute_path",
    message:
      `${prefix}entry '\\\\server\\share\\x' is an absolute path (names must be relative to the module directory)`,
    archive: withGood({ name: "\\\\server\\share\\x", data: payload }),
  },
  {
    name: "a symbolic link",
    code: "symlink",
    message: `${prefix}entry 'bin/start_both' is a symbolic link (only regular files and directories)`,
    archive: withGood({ name: "bin/start_both", data: encode("/etc/shadow"), unixMode: 0o120777 }),
  },
  {
    name: "a character device",
    code: "device_file",
    message: `${prefix}entry 'bin/tty' is a character device (only regular files and directories)`,
    archive: withGood({ name: "bin/tty", unixMode: 0o020620 }),
  },
  {
    name: "a block device",
    code: "device_file",
    message: `${prefix}entry 'bin/sda' is a block device (only regular files and directories)`,
    archive: withGood({ name: "bin/sda", unixMode: 0o060660 }),
  },
  {
    name: "a FIFO",
    code: "device_file",
    message: `${prefix}entry 'bin/pipe' is a FIFO (only regular files and directories)`,
    archive: withGood({ name: "bin/pipe", unixMode: 0o010644 }),
  },
  {
    name: "more entries than the default limit of 10,000",
    code: "too_many_entries",
    message: `${prefix}holds more than 10000 entries (the most a module archive may hold)`,
    archive: () =>
      forgeZip([
        ...goodEntries,
        ...Array.from({ length: 10_001 - goodEntries.length }, (_, i) => ({ name: `web/f${i}` })),
      ]),
  },
  {
    name: "an entry declaring more than the per-entry limit",
    code: "entry_too_large",
    message: `${prefix}entry 'web/big.bin' declares 2000 bytes (at most 1000 bytes per entry)`,
    archive: withGood({ name: "web/big.bin", data: new Uint8Array(2000) }),
    options: { maxEntryBytes: 1000 },
  },
  {
    name: "entries adding up to more than the total limit",
    code: "total_too_large",
    message: `${prefix}entry 'web/c' brings the archive's declared size over 4000 bytes in total`,
    archive: withGood(
      { name: "web/a", data: new Uint8Array(1500) },
      { name: "web/b", data: new Uint8Array(1500) },
      { name: "web/c", data: new Uint8Array(1500) },
    ),
    options: { maxTotalBytes: 4000 },
  },
  {
    name: "an entry over 1 MiB compressed beyond 200:1",
    code: "compression_ratio",
    message: `${prefix}entry 'web/zeros.bin' declares a ${
      Math.floor(zeros2MiB.length / zeros2MiBDeflated.length)
    }:1 compression ratio (at most 200:1 for entries over 1 MiB; a zip bomb?)`,
    archive: withGood({ name: "web/zeros.bin", data: zeros2MiB, deflated: zeros2MiBDeflated }),
  },
  {
    name: "the same name twice",
    code: "duplicate_name",
    message: `${prefix}entry 'bin/start_prim' appears twice in the archive`,
    archive: withGood({ name: "bin/start_prim", data: encode("#!/bin/sh\nevil\n"), unixMode: 0o100755 }),
  },
  {
    name: "names differing only by letter case",
    code: "duplicate_name",
    message:
      `${prefix}entry 'bin/Start_Prim' collides with entry 'bin/start_prim' (names differing only by ` +
      `letter case, Unicode normalisation or a trailing slash are the same file on some file systems)`,
    archive: withGood({ name: "bin/Start_Prim", data: payload }),
  },
  {
    name: "names differing only by Unicode normalisation",
    code: "duplicate_name",
    message:
      `${prefix}entry 'web/cafe\u0301.html' collides with entry 'web/caf\u00e9.html' (names differing ` +
      `only by letter case, Unicode normalisation or a trailing slash are the same file on some file systems)`,
    archive: withGood({ name: "web/caf\u00e9.html", data: payload }, {
      name: "web/cafe\u0301.html",
      data: payload,
    }),
  },
  {
    name: "a file and a directory of the same name (trailing slash)",
    code: "duplicate_name",
    message: `${prefix}entry 'web/' is a directory but entry 'web' is a file of the same name`,
    archive: withGood({ name: "web", data: payload }, { name: "web/" }),
  },
  {
    name: "a file where a later entry needs a directory",
    code: "duplicate_name",
    message:
      `${prefix}entry 'web/index.html' needs 'web' to be a directory, but entry 'web' is a file of that name`,
    archive: withGood({ name: "web", data: payload }, { name: "web/index.html", data: payload }),
  },
  {
    name: "a file where an earlier entry needed a directory",
    code: "duplicate_name",
    message: `${prefix}entry 'web' is a file but other entries lie beneath it as a directory ('web/')`,
    archive: withGood({ name: "web/index.html", data: payload }, { name: "web", data: payload }),
  },
  {
    name: "no conf/userconfig.xml",
    code: "missing_userconfig",
    message: `${prefix}has no conf/userconfig.xml (every module needs its configuration)`,
    archive: () => forgeZip(goodEntries.filter((e) => e.name !== "conf/userconfig.xml")),
  },
  {
    name: "a userconfig.xml the validator rejects",
    code: "invalid_userconfig",
    message:
      `${prefix}entry 'conf/userconfig.xml' is invalid: userconfig.xml:3:3: <service> attribute 'mode': ` +
      `invalid value 'mirror' (expected farm)`,
    archive: withGood(),
    options: {
      validateUserconfig: () => {
        throw new Error(
          "userconfig.xml:3:3: <service> attribute 'mode': invalid value 'mirror' (expected farm)",
        );
      },
    },
  },
  {
    name: "a userconfig.xml that is not UTF-8",
    code: "invalid_userconfig",
    message: `${prefix}entry 'conf/userconfig.xml' is not valid UTF-8`,
    archive: () =>
      forgeZip([
        ...goodEntries.filter((e) => e.name !== "conf/userconfig.xml"),
        { name: "conf/userconfig.xml", data: new Uint8Array([0x3c, 0x73, 0xff, 0xfe, 0x3e]) },
      ]),
  },
  {
    name: "an encrypted entry",
    code: "encrypted",
    message: `${prefix}entry 'web/secret' is encrypted (module archives must not be)`,
    archive: withGood({ name: "web/secret", data: payload, flags: 0x0801 }),
  },
  {
    name: "a NUL byte in a name",
    code: "bad_name",
    message: `${prefix}entry 'bin/start\\x00.sh' has a NUL byte in its name`,
    archive: withGood({
      name: concat([encode("bin/start"), new Uint8Array([0]), encode(".sh")]),
      data: payload,
    }),
  },
  {
    name: "a control character in a name",
    code: "bad_name",
    message: `${prefix}entry 'bin/a\\x0ab' has a control character in its name`,
    archive: withGood({ name: "bin/a\nb", data: payload }),
  },
  {
    name: "a backslash traversal",
    code: "bad_name",
    message: `${prefix}entry '..\\x' has a backslash '..' segment, a path traversal on Windows`,
    archive: withGood({ name: "..\\x", data: payload }),
  },
  {
    name: "an empty path segment",
    code: "bad_name",
    message: `${prefix}entry 'bin//x' has an empty path segment ('//')`,
    archive: withGood({ name: "bin//x", data: payload }),
  },
  {
    name: "a name longer than 4096 bytes",
    code: "bad_name",
    message: `${prefix}entry '${
      longName.slice(0, 200)
    }... (4104 characters)' has a name of 4104 bytes (at most 4096)`,
    archive: withGood({ name: longName, data: payload }),
  },
  {
    name: "an entry inflating to more than it declares",
    code: "size_mismatch",
    message: `${prefix}entry 'web/x' inflates to more than its declared 100 bytes (forged size)`,
    archive: withGood({ name: "web/x", data: payload, deflate: true, declaredUncompressedSize: 100 }),
  },
  {
    name: "an entry inflating to less than it declares",
    code: "size_mismatch",
    message: `${prefix}entry 'web/x' inflates to 5000 bytes but declares 6000 (forged size)`,
    archive: withGood({ name: "web/x", data: payload, deflate: true, declaredUncompressedSize: 6000 }),
  },
  {
    name: "an entry failing its CRC-32",
    code: "corrupt",
    message: `${prefix}entry 'web/x' fails its CRC-32 check (stored 0x12345678, computed 0x${
      crc32(payload).toString(16).padStart(8, "0")
    })`,
    archive: withGood({ name: "web/x", data: payload, deflate: true, crc32: 0x12345678 }),
  },
  {
    name: "a local header naming another file than the central directory",
    code: "corrupt",
    message:
      `${prefix}entry 'web/x' cannot be read: Ambiguous archive (mismatched local file header (filename))`,
    archive: localHeaderNameMismatch,
  },
  {
    name: "an unsupported compression method",
    code: "unsupported_compression",
    message: `${prefix}entry 'web/x' uses compression method 14 (only 0 stored and 8 deflate)`,
    archive: withGood({ name: "web/x", data: payload, compressionMethod: 14 }),
  },
];

for (const c of cases) {
  Deno.test(`hostile archive: ${c.name} is refused as '${c.code}' and the module tree is unchanged`, async () => {
    const root = await Deno.makeTempDir({ prefix: "safekit_hostile_" });
    try {
      const modules = join(root, "modules");
      const target = join(modules, "AM");
      await installModuleTree(await readSafeArchive(await forgeZip(goodEntries)), target);
      const before = await snapshotTree(modules);
      const bytes = await c.archive();

      await assert.rejects(
        async () => {
          const archive = await readSafeArchive(bytes, { name: "x.safe", ...c.options });
          await installModuleTree(archive, target, { reinstall: true });
        },
        (error: unknown) => {
          assert.ok(error instanceof SafeArchiveError, `expected a SafeArchiveError, got ${error}`);
          assert.equal(error.code, c.code);
          assert.equal(error.message, c.message);
          return true;
        },
      );
      assert.deepEqual(await snapshotTree(modules), before);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}
