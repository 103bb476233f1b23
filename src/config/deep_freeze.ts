// Configs are shared by every part of the node service: freezing them deeply makes an accidental
// mutation throw (in strict mode) instead of silently diverging between components.

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
