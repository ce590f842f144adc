/**
 * Input → prompt tokens. A plain prompt is tokenized with special tokens parsed (as TGI does) and
 * a BOS token prepended when the model wants one; chat messages go through the model's own chat
 * template (node-llama-cpp resolves it from the GGUF metadata, Jinja templates included).
 */
import {
  type ChatHistoryItem,
  type ChatModelFunctions,
  type ChatWrapper,
  JinjaTemplateChatWrapper,
  type LlamaModel,
  resolveChatWrapper,
} from "node-llama-cpp";
import { AppError } from "../../errors/index.js";
import type { ChatMessage, ChatTool, LanguageModelInput } from "../port.js";

export type PromptTokens = {
  tokens: number[];
  /** Extra stop conditions the chat template brings (end-of-turn tokens and texts). */
  stopTokenIds: number[];
  stopTexts: string[];
};

/** Keeps only the last `truncate` tokens (TGI's `truncate`); unset or 0 keeps them all. */
export function truncatePrompt(built: PromptTokens, truncate: number | undefined): PromptTokens {
  if (truncate !== undefined && truncate > 0 && built.tokens.length > truncate) {
    built.tokens = built.tokens.slice(built.tokens.length - truncate);
  }
  return built;
}

export type PromptBuilder = {
  build(input: LanguageModelInput): PromptTokens;
  readonly chatTemplateName: string;
  /**
   * The model's Jinja chat template renders `tools` (node-llama-cpp found its tool-call syntax):
   * tools given with the messages then go through the template; otherwise callers describe them
   * in a system message.
   */
  readonly templateSupportsTools: boolean;
};

export function createPromptBuilder(model: LlamaModel): PromptBuilder {
  // Resolved on first use, not at start-up: matching the model's Jinja template against the known
  // chat formats took ~0.75 s of `serve`'s start-up on 2 busy cores (docs/benchmarks.md, start-up).
  let chatWrapper: ChatWrapper | undefined;
  const wrapper = (): ChatWrapper => {
    chatWrapper ??= resolveChatWrapper(model);
    return chatWrapper;
  };
  const supportsTools = (): boolean => {
    const resolved = wrapper();
    return resolved instanceof JinjaTemplateChatWrapper && resolved.usingJinjaFunctionCallTemplate;
  };
  return {
    get chatTemplateName() {
      return wrapper().wrapperName;
    },
    get templateSupportsTools() {
      return supportsTools();
    },
    build(input) {
      if ("messages" in input) {
        return buildChat(model, wrapper(), input.messages, supportsTools() ? input.tools : undefined);
      }
      const tokens = model.tokenize(input.prompt, true);
      const bos = model.tokens.bos;
      if (tokens.length > 0 && bos !== null && model.tokens.shouldPrependBosToken && tokens[0] !== bos) {
        tokens.unshift(bos);
      }
      return { tokens: tokens as number[], stopTokenIds: [], stopTexts: [] };
    },
  };
}

function buildChat(
  model: LlamaModel,
  wrapper: ChatWrapper,
  messages: readonly ChatMessage[],
  tools: readonly ChatTool[] | undefined,
): PromptTokens {
  if (messages.length === 0) {
    throw new AppError("validation_error", "Input validation error: `messages` cannot be empty");
  }
  const history: ChatHistoryItem[] = messages.map((message) => {
    if (message.role === "system") return { type: "system", text: message.content };
    if (message.role === "user") return { type: "user", text: message.content };
    return { type: "model", response: [message.content] };
  });
  history.push({ type: "model", response: [] });
  const availableFunctions: ChatModelFunctions | undefined =
    tools === undefined || tools.length === 0
      ? undefined
      : Object.fromEntries(
          tools.map((tool) => [
            tool.name,
            {
              ...(tool.description === undefined ? {} : { description: tool.description }),
              ...(tool.parameters === undefined ? {} : { params: tool.parameters as never }),
            },
          ]),
        );
  const state = wrapper.generateContextState({
    chatHistory: history,
    ...(availableFunctions === undefined ? {} : { availableFunctions, documentFunctionParams: true }),
  });
  const tokens = state.contextText.tokenize(model.tokenizer) as number[];
  const stopTokenIds: number[] = [];
  const stopTexts: string[] = [];
  for (const trigger of state.stopGenerationTriggers) {
    const triggerTokens = trigger.tokenize(model.tokenizer);
    const text = trigger.toString();
    if (triggerTokens.length === 1 && triggerTokens[0] !== undefined) stopTokenIds.push(triggerTokens[0]);
    else if (text.length > 0) stopTexts.push(text);
  }
  return { tokens, stopTokenIds, stopTexts };
}
