// Where the PKI keeps its files, under SAFE/web/conf (spec §9.1, same names as SafeKit):
//   cacert.crt                     the cluster CA certificate, trusted by every node and browser
//   server.crt, server.key (0600)  this node's web service certificate; their presence = HTTPS mode
//   usercerts/<name>.crt, .key     client certificates (user_Admin_<host> for distributed commands)
//   ca/certs/cacert.crt            on the CA node: the CA certificate and every certificate it issued
//   ca/private/cakey.pem (0600)    on the CA node: the CA private key (directory 0700)
// Every file is replaced crash-safely (tmp + fsync + rename): a reader sees the old or the new file.
import { join } from "node:path";
import { atomicWriteFile, readTextIfExists } from "../../platform/atomic_write.ts";
import { type CertificateAuthority, loadCa } from "./ca.ts";

export type PkiFiles = {
  readonly webConf: string;
  readonly cacert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly userCertDir: string;
  readonly caDir: string;
  readonly caCert: string;
  readonly caKey: string;
  issuedCert(name: string): string;
  userCert(name: string): string;
  userKey(name: string): string;
};

export function pkiFiles(safe: string): PkiFiles {
  const webConf = join(safe, "web", "conf");
  const caDir = join(webConf, "ca");
  const userCertDir = join(webConf, "usercerts");
  return {
    webConf,
    cacert: join(webConf, "cacert.crt"),
    serverCert: join(webConf, "server.crt"),
    serverKey: join(webConf, "server.key"),
    userCertDir,
    caDir,
    caCert: join(caDir, "certs", "cacert.crt"),
    caKey: join(caDir, "private", "cakey.pem"),
    issuedCert: (name) => join(caDir, "certs", `${checkedName(name)}.crt`),
    userCert: (name) => join(userCertDir, `${checkedName(name)}.crt`),
    userKey: (name) => join(userCertDir, `${checkedName(name)}.key`),
  };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

/** Certificate names become file names: no separators, no "..", bounded. */
export function certNameProblem(name: string): string | null {
  return NAME.test(name) && !name.includes("..")
    ? null
    : `invalid certificate name '${name}' (letters, digits and ._@- only, at most 128)`;
}

function checkedName(name: string): string {
  const p = certNameProblem(name);
  if (p) throw new Error(p);
  return name;
}

export const readPem = readTextIfExists;

export async function writeCertificate(path: string, pem: string): Promise<void> {
  await atomicWriteFile(path, pem, 0o644);
}

export async function writePrivateKey(path: string, pem: string): Promise<void> {
  await atomicWriteFile(path, pem, 0o600);
  // The temporary file was created 0600 already; this repairs a key file that an older tool left readable.
  await Deno.chmod(path, 0o600).catch(() => {});
}

export async function saveCa(files: PkiFiles, ca: { certPem: string; keyPem: string }): Promise<void> {
  await Deno.mkdir(join(files.caDir, "private"), { recursive: true, mode: 0o700 });
  await Deno.chmod(join(files.caDir, "private"), 0o700).catch(() => {});
  await writePrivateKey(files.caKey, ca.keyPem);
  await writeCertificate(files.caCert, ca.certPem);
  await writeCertificate(files.cacert, ca.certPem);
}

export async function hasLocalCa(files: PkiFiles): Promise<boolean> {
  return (await readPem(files.caKey)) !== null && (await readPem(files.caCert)) !== null;
}

/** The CA of this node, or null on a node that is not the CA. */
export async function loadLocalCa(files: PkiFiles): Promise<CertificateAuthority | null> {
  const certPem = await readPem(files.caCert);
  const keyPem = await readPem(files.caKey);
  if (certPem === null || keyPem === null) return null;
  return await loadCa(certPem, keyPem);
}

/** The key is written before the certificate: server.crt appearing is what turns HTTPS mode on. */
export async function installServerCert(files: PkiFiles, certPem: string, keyPem: string): Promise<void> {
  await writePrivateKey(files.serverKey, keyPem);
  await writeCertificate(files.serverCert, certPem);
}

export async function installUserCert(files: PkiFiles, name: string, certPem: string, keyPem: string) {
  await writePrivateKey(files.userKey(name), keyPem);
  await writeCertificate(files.userCert(name), certPem);
}

export type ServerTls = { readonly cert: string; readonly key: string };

/** server.crt + server.key when both exist (HTTPS mode), else null (HTTP mode). */
export async function readServerTls(files: PkiFiles): Promise<ServerTls | null> {
  const cert = await readPem(files.serverCert);
  const key = await readPem(files.serverKey);
  return cert !== null && key !== null ? { cert, key } : null;
}

/** `rmcerts [CA]`: back to HTTP. The certificate goes first so that HTTPS mode ends even if a removal fails. */
export async function removeHttpsFiles(files: PkiFiles, opts: { ca: boolean }): Promise<string[]> {
  const removed: string[] = [];
  const rm = async (path: string, recursive = false) => {
    try {
      await Deno.remove(path, { recursive });
      removed.push(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  };
  await rm(files.serverCert);
  await rm(files.serverKey);
  await rm(files.userCertDir, true);
  await rm(files.cacert);
  if (opts.ca) await rm(files.caDir, true);
  return removed;
}
