// One error type for every store, with a stable code, so the CLI and the web API can map a failure
// (e.g. a duplicate module id) to their own exit code or HTTP status without parsing messages.

export type StoreErrorCode =
  | "invalid-input"
  | "invalid-resource-name"
  | "duplicate-module-name"
  | "duplicate-module-id"
  | "module-not-installed"
  | "unknown-command"
  | "schema-too-new"
  | "database-locked";

export class StoreError extends Error {
  constructor(readonly code: StoreErrorCode, message: string) {
    super(message);
    this.name = "StoreError";
  }
}

export function invalidInput(message: string): StoreError {
  return new StoreError("invalid-input", message);
}
