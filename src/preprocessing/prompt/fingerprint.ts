/**
 * The prompt templates' fingerprint: what shapes every prompt the twin sends besides the data
 * (serving templates, history and condensing), by version and by the text each template renders
 * on fixed probe inputs. A wording change shows even when its version was not bumped; traces carry
 * it so answers made with other templates (prompt skew) can be told apart.
 */
import { canonicalJson, sha256Hex } from "../canonical-json.js";
import {
  CONDENSE_PROMPT_VERSION,
  type ConversationTurn,
  formatAlpaca,
  formatCondensePrompt,
  formatHistory,
  formatRequestWithContext,
  PROMPT_TEMPLATES_VERSION,
  SYSTEM_PROMPT,
} from "./templates.js";

export type PromptTemplateVersions = {
  /** The serving templates (system prompt, Alpaca, request with context, history). */
  prompt: string;
  /** The condensing template (follow-up + history → standalone question). */
  condense: string;
};

export type PromptTemplatesFingerprint = {
  /** sha256 over the canonical JSON of the versions and the rendered probes. */
  hash: string;
  versions: PromptTemplateVersions;
};

/** What each template renders, by name; the probes use placeholders, never real data. */
export type PromptTemplateRenderings = {
  system: string;
  alpaca: string;
  requestWithContext: string;
  history: string;
  condense: string;
};

export const PROMPT_TEMPLATE_VERSIONS: PromptTemplateVersions = {
  prompt: PROMPT_TEMPLATES_VERSION,
  condense: CONDENSE_PROMPT_VERSION,
};

const PROBE_TURNS: readonly ConversationTurn[] = [
  { role: "user", content: "{user turn}" },
  { role: "assistant", content: "{assistant turn}" },
];

/** The current templates rendered on the probe inputs. */
export function renderPromptTemplates(): PromptTemplateRenderings {
  return {
    system: SYSTEM_PROMPT,
    alpaca: formatAlpaca("{instruction}", "{response}"),
    requestWithContext: formatRequestWithContext("{query}", "{context}"),
    history: formatHistory(PROBE_TURNS),
    condense: formatCondensePrompt(PROBE_TURNS, "{question}"),
  };
}

export type PromptFingerprintOptions = {
  /** Default: the current versions (PROMPT_TEMPLATE_VERSIONS). */
  versions?: Partial<PromptTemplateVersions>;
  /** Default: the current templates rendered (renderPromptTemplates()). */
  renderings?: PromptTemplateRenderings;
};

export function createPromptFingerprint(options: PromptFingerprintOptions = {}): PromptTemplatesFingerprint {
  const versions = { ...PROMPT_TEMPLATE_VERSIONS, ...options.versions };
  const renderings = options.renderings ?? renderPromptTemplates();
  return { hash: sha256Hex(canonicalJson({ versions, renderings })), versions };
}

let current: PromptTemplatesFingerprint | undefined;

/** The current templates' fingerprint, computed once on first use. */
export function currentPromptFingerprint(): PromptTemplatesFingerprint {
  current ??= createPromptFingerprint();
  return current;
}
