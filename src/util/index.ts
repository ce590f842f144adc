export { type DefinedOnly, definedOnly } from "./defined-only.js";
