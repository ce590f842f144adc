// Conversations kept in this browser (localStorage, one entry per conversation), and the history a
// follow-up sends: the earlier turns, newest kept first, within the service's limits (GET /info).

const PREFIX = "llm-twin.conversation.";
const ACTIVE_KEY = "llm-twin.conversation-active";
/** A stored entry longer than this (characters) is ignored when loading. */
export const MAX_ENTRY_CHARS = 1_000_000;
const MAX_TITLE_CHARS = 80;
const SNIPPET_CHARS = 300;
const STATUSES = new Set(["running", "done", "stopped", "failed"]);
/** The service's defaults, used when it does not publish its limits. */
export const DEFAULT_LIMITS = { maxQueryChars: 4000, maxHistoryTurns: 20, maxHistoryChars: 16_000 };

function newId() {
  const random = globalThis.crypto?.randomUUID?.();
  return random ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export function newConversation(now = Date.now()) {
  return { id: newId(), title: "", createdAt: now, updatedAt: now, turns: [] };
}

/** A title from the first question: its first line, shortened. */
export function titleFrom(question) {
  const line = question.trim().split("\n")[0] ?? "";
  return line.length > MAX_TITLE_CHARS ? `${line.slice(0, MAX_TITLE_CHARS - 1)}…` : line;
}

export function displayTitle(conversation) {
  return conversation.title || "New conversation";
}

const isString = (value) => typeof value === "string";

function validTurn(turn) {
  return (
    turn !== null &&
    typeof turn === "object" &&
    isString(turn.question) &&
    isString(turn.answer) &&
    STATUSES.has(turn.status) &&
    (turn.footer === undefined || isString(turn.footer)) &&
    (turn.traceId === undefined || isString(turn.traceId)) &&
    (turn.sources === undefined || turn.sources === null || Array.isArray(turn.sources?.sources))
  );
}

/** A stored entry back as a conversation, or undefined when it is corrupt or too large. */
export function parseConversation(text) {
  if (!isString(text) || text.length > MAX_ENTRY_CHARS) return undefined;
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object") return undefined;
  const { id, title, createdAt, updatedAt, turns } = value;
  if (!isString(id) || !/^[\w-]{1,64}$/.test(id) || !isString(title) || !Array.isArray(turns)) return undefined;
  if (!Number.isFinite(createdAt) || !Number.isFinite(updatedAt) || !turns.every(validTurn)) return undefined;
  // A turn still "running" when the page went away was cut short.
  const restored = turns.map((turn) => (turn.status === "running" ? { ...turn, status: "stopped" } : turn));
  return { id, title: title.slice(0, MAX_TITLE_CHARS), createdAt, updatedAt, turns: restored };
}

/** Every readable conversation, most recently updated first; corrupt or oversized entries are skipped. */
export function loadConversations(storage) {
  const conversations = [];
  for (let index = 0; index < storage.length; index += 1) {
    const key = storage.key(index);
    if (key === null || !key.startsWith(PREFIX)) continue;
    let text;
    try {
      text = storage.getItem(key);
    } catch {
      continue;
    }
    const conversation = parseConversation(text);
    if (conversation !== undefined && key === PREFIX + conversation.id) conversations.push(conversation);
  }
  return conversations.sort((left, right) => right.updatedAt - left.updatedAt);
}

/** Saves one conversation; false when the browser refused (storage full or disabled). */
export function saveConversation(storage, conversation) {
  try {
    storage.setItem(PREFIX + conversation.id, JSON.stringify(conversation));
    return true;
  } catch {
    return false;
  }
}

export function deleteConversation(storage, id) {
  storage.removeItem(PREFIX + id);
}

export function loadActiveId(storage) {
  return storage.getItem(ACTIVE_KEY) ?? "";
}

export function saveActiveId(storage, id) {
  try {
    storage.setItem(ACTIVE_KEY, id);
  } catch {
    // Storage disabled: the page still works, it just opens the latest conversation next time.
  }
}

/** What is kept of a `sources` event: enough to draw the cards again, with short snippets. */
export function compactSources(event) {
  const sources = Array.isArray(event?.sources) ? event.sources : [];
  return {
    author: event?.author ? { fullName: String(event.author.fullName ?? "") } : null,
    queries: Array.isArray(event?.queries) ? event.queries.map(String) : [],
    sources: sources.map((source) => ({
      title: String(source.title ?? ""),
      link: String(source.link ?? ""),
      author: { fullName: String(source.author?.fullName ?? "") },
      category: String(source.category ?? ""),
      score: Number(source.score),
      text: String(source.text ?? "").slice(0, SNIPPET_CHARS),
    })),
  };
}

/**
 * The `history` for a question asked after `turns`: each answered turn as a user then an assistant
 * message (failed turns left out), then only the most recent messages that fit the service's
 * `maxHistoryTurns` (messages) and `maxHistoryChars` (their characters together).
 */
export function historyFor(turns, limits = DEFAULT_LIMITS) {
  const messages = [];
  for (const turn of turns) {
    if (turn.status === "failed" || turn.status === "running") continue;
    if (turn.question.trim() !== "") messages.push({ role: "user", content: turn.question });
    if (turn.answer.trim() !== "") messages.push({ role: "assistant", content: turn.answer });
  }
  const kept = [];
  let chars = 0;
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (kept.length >= limits.maxHistoryTurns || chars + message.content.length > limits.maxHistoryChars) break;
    chars += message.content.length;
    kept.unshift(message);
  }
  return kept;
}

/** The service's limits from GET /info, or the defaults for what it does not say. */
export function limitsFrom(info) {
  const limits = { ...DEFAULT_LIMITS };
  for (const name of Object.keys(DEFAULT_LIMITS)) {
    const value = info?.limits?.[name];
    if (Number.isInteger(value) && value >= 0) limits[name] = value;
  }
  return limits;
}
