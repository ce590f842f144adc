/** zod schemas shared by the commands' flag validation; the messages name the flag at fault. */
import { z } from "zod";

/** A positive integer from a flag or environment string, e.g. `positive("--batch-size")`. */
export const positive = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be an integer`)
    .positive(`${name} must be positive`);
