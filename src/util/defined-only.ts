/** Small helpers on plain objects, shared across capabilities (no imports, no side effects). */

/** The object's own enumerable properties whose value is not undefined (null is kept). */
export type DefinedOnly<T> = { [K in keyof T]?: Exclude<T[K], undefined> };

/**
 * A copy of `value` without its undefined properties: spread over defaults, an option left
 * undefined keeps the default instead of erasing it (and satisfies `exactOptionalPropertyTypes`).
 */
export function definedOnly<T extends object>(value: T): DefinedOnly<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as DefinedOnly<T>;
}
