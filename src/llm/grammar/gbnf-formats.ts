/**
 * JSON-schema `format` on strings, enforced as a regular expression (compiled by gbnf-regex.ts)
 * whose every match passes ajv-formats' full check: dates with real days of their month (no 29
 * February), times and date-times with a time zone, lowercase e-mail addresses and host names with
 * labels of at most 22 characters (63 allowed), RFC 4122 UUIDs, dotted IPv4, uncompressed IPv6, `https://`
 * URIs, ISO durations, base64. Formats on numbers (`int32`, `int64`, `float`, `double`) become
 * bounds. Any other format is refused rather than written unchecked.
 */
import { unsupported } from "./schema-error.js";

/** A host name label: at most 63 characters are allowed; 22 keep documents short. */
const LABEL = "[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?";
const DATE =
  "\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))";
const TIME = "(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,6})?(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)";
const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";

/** Format name → anchored regular expression of the strings written for it. */
export const STRING_FORMATS: Record<string, string> = {
  date: `^${DATE}$`,
  time: `^${TIME}$`,
  "date-time": `^${DATE}T${TIME}$`,
  "iso-time": `^${TIME}$`,
  "iso-date-time": `^${DATE}T${TIME}$`,
  duration: "^P(?:\\d{1,4}W|(?:\\d{1,4}Y)?(?:\\d{1,4}M)?\\d{1,4}D(?:T\\d{1,4}H)?|T\\d{1,4}[HMS])$",
  email: `^[a-z0-9]{1,16}(?:[._-][a-z0-9]{1,16}){0,2}@${LABEL}(?:\\.${LABEL}){1,2}$`,
  hostname: `^${LABEL}(?:\\.${LABEL}){0,2}$`,
  ipv4: `^${OCTET}(?:\\.${OCTET}){3}$`,
  ipv6: "^[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){7}$",
  uuid: "^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
  uri: `^https://${LABEL}(?:\\.${LABEL}){0,2}(?:/[A-Za-z0-9._~-]{0,16}){0,4}$`,
  byte: "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
  password: "^.*$",
  binary: "^.*$",
};

/** Format name → the bounds it implies on a number (no bounds: any number). */
const NUMBER_FORMATS: Record<string, Record<string, number>> = {
  int32: { minimum: -(2 ** 31), maximum: 2 ** 31 - 1 },
  int64: {},
  float: {},
  double: {},
};

/** Whether `format` is one of the number formats (which leave strings alone). */
export function isNumberFormat(format: unknown): boolean {
  return typeof format === "string" && Object.hasOwn(NUMBER_FORMATS, format);
}

export function stringFormatPattern(format: unknown): string {
  const pattern =
    typeof format === "string" && Object.hasOwn(STRING_FORMATS, format) ? STRING_FORMATS[format] : undefined;
  if (pattern === undefined) {
    throw unsupported(
      "format",
      `${JSON.stringify(format)} on strings; supported: ${Object.keys(STRING_FORMATS).join(", ")}`,
    );
  }
  return pattern;
}

/** The schema with a number format's bounds added (tightening, never loosening, its own). */
export function withNumberFormat(schema: Record<string, unknown>): Record<string, unknown> {
  if (schema.format === undefined) return schema;
  const bounds = isNumberFormat(schema.format) ? NUMBER_FORMATS[schema.format as string] : undefined;
  if (bounds === undefined) {
    throw unsupported(
      "format",
      `${JSON.stringify(schema.format)} on numbers; supported: ${Object.keys(NUMBER_FORMATS).join(", ")}`,
    );
  }
  const result: Record<string, unknown> = { ...schema };
  if (bounds.minimum !== undefined) {
    result.minimum = typeof schema.minimum === "number" ? Math.max(schema.minimum, bounds.minimum) : bounds.minimum;
  }
  if (bounds.maximum !== undefined) {
    result.maximum = typeof schema.maximum === "number" ? Math.min(schema.maximum, bounds.maximum) : bounds.maximum;
  }
  return result;
}
