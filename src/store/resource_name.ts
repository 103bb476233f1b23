// Resource names of the failover machine (spec §2.1): a class, a dot, an identifier, as in
// state.local, heartbeat.default, rfs.uptodate, usersetting.errd, custom.<id>, module.<name>_<addr>;
// a few have no class (FarmProto_0). ':' and '*' occur in addresses and rule patterns.
import { StoreError } from "./store_error.ts";

export const RESOURCE_NAME_MAX_LENGTH = 128;
const ALLOWED = /^[A-Za-z0-9_.:*-]$/;

/** Returns the name, or throws a StoreError "invalid-resource-name" saying what is wrong and where. */
export function validateResourceName(name: unknown): string {
  if (typeof name !== "string") {
    throw new StoreError(
      "invalid-resource-name",
      `invalid resource name: expected a string, found ${typeof name}`,
    );
  }
  if (name === "") {
    throw new StoreError("invalid-resource-name", "invalid resource name: empty (expected e.g. custom.myid)");
  }
  if (name.length > RESOURCE_NAME_MAX_LENGTH) {
    throw new StoreError(
      "invalid-resource-name",
      `invalid resource name '${
        name.slice(0, 40)
      }...': ${name.length} characters, at most ${RESOURCE_NAME_MAX_LENGTH}`,
    );
  }
  const chars = [...name];
  const bad = chars.findIndex((c) => !ALLOWED.test(c));
  if (bad >= 0) {
    throw new StoreError(
      "invalid-resource-name",
      `invalid resource name ${JSON.stringify(name)}: character ${JSON.stringify(chars[bad])} at position ${
        bad + 1
      } ` +
        `is not allowed (allowed: letters, digits, _ . : * -)`,
    );
  }
  return name;
}

/** The part before the first dot ("heartbeat" for heartbeat.flow), or "" for a name without class. */
export function resourceClass(name: string): string {
  const dot = name.indexOf(".");
  return dot < 0 ? "" : name.slice(0, dot);
}
