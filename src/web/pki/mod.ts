// Public face of the SafeKit PKI: the built-in CA, node server certificates, client certificates, their
// files under SAFE/web/conf, checkcert, the setup-time CA service and the initssl steps (spec §9.1).
export {
  CERT_VALIDITY_YEARS,
  createCa,
  CsrError,
  DEFAULT_CA_SUBJECT,
  defaultValidity,
  loadCa,
  signCsr,
} from "./ca.ts";
export type { CertificateAuthority, CertProfile, Validity } from "./ca.ts";
export { makeKeyAndRequest } from "./csr.ts";
export type { KeyAndRequest } from "./csr.ts";
export { fingerprintSha256 } from "./keys.ts";
export type { KeyKind } from "./keys.ts";
export { isRole, ROLES } from "./roles.ts";
export type { Role } from "./roles.ts";
export { formatSan, normalizeIp, sanEntriesOf, sanEntryFor, sansCover } from "./san.ts";
export type { SanEntry } from "./san.ts";
export { serverCertName, serverKeyAndRequest, serverSanEntries } from "./server_cert.ts";
export type { ServerIdentity } from "./server_cert.ts";
export {
  clientCertIdentity,
  clientKeyAndRequest,
  clientTlsOptions,
  parseUserCertName,
  userCertName,
} from "./client_cert.ts";
export {
  certNameProblem,
  hasLocalCa,
  loadLocalCa,
  pkiFiles,
  readPem,
  readServerTls,
  removeHttpsFiles,
} from "./store.ts";
export type { PkiFiles, ServerTls } from "./store.ts";
export {
  checkCaCertificate,
  checkCert,
  checkClientCertificate,
  checkServerCertificate,
  formatFindings,
} from "./check_cert.ts";
export type { CertFinding, CheckCertOptions, CheckTarget } from "./check_cert.ts";
export {
  CA_ADMIN_USER,
  CA_SERVICE_PORT,
  caServiceHandler,
  DEFAULT_CA_SERVICE_LIFETIME_MS,
  MAX_CA_REQUEST_BYTES,
  startCaService,
} from "./ca_service.ts";
export type { CaService, CaServiceOptions } from "./ca_service.ts";
export {
  fetchCaCertificate,
  InitSslError,
  initsslRca,
  initsslReq,
  initsslSca,
  makeUserCert,
  rmcerts,
} from "./initssl.ts";
export type { InitSslResult, NodeIdentity, ReqOptions } from "./initssl.ts";
