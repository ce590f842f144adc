// The chat page: conversation, streaming answers with a Stop button, settings, author selector,
// theme toggle, API key dialog and the traces view. Plain DOM, no framework.
import { describeFailure, getJson, streamRag } from "./api.js";
import { renderConversationList } from "./conversation-list.js";
import {
  compactSources,
  DEFAULT_LIMITS,
  deleteConversation,
  displayTitle,
  historyFor,
  limitsFrom,
  loadActiveId,
  loadConversations,
  newConversation,
  saveActiveId,
  saveConversation,
  titleFrom,
} from "./conversations.js";
import { element, formatMs } from "./dom.js";
import { feedbackForm } from "./feedback.js";
import { loadApiKey, loadSettings, NUMERIC_SETTINGS, parseSetting, saveApiKey, saveSettings } from "./settings.js";
import { sourcesSection } from "./sources.js";
import { setupThemeToggle } from "./theme.js";
import { renderTraces } from "./traces.js";
import { answerActions, regenerateButton, renderAnswer, restoredTurn, twinTurn, userTurn } from "./turn-view.js";

const storage = window.localStorage;
const byId = (id) => document.getElementById(id);
const ui = {
  conversation: byId("conversation"),
  emptyHint: byId("empty-hint"),
  error: byId("error"),
  status: byId("status"),
  composer: byId("composer"),
  question: byId("question"),
  send: byId("send"),
  stop: byId("stop"),
  author: byId("author"),
  settingsForm: byId("settings-form"),
  themeToggle: byId("theme-toggle"),
  keyButton: byId("key-button"),
  keyDialog: byId("key-dialog"),
  keyForm: byId("key-form"),
  keyInput: byId("api-key"),
  keyForget: byId("key-forget"),
  chatView: byId("chat-view"),
  demoBanner: byId("demo-banner"),
  tracesView: byId("traces-view"),
  tracesList: byId("traces"),
  tracesStatus: byId("traces-status"),
  tracesRefresh: byId("traces-refresh"),
  navChat: byId("nav-chat"),
  navTraces: byId("nav-traces"),
  conversationList: byId("conversation-list"),
  newConversation: byId("new-conversation"),
  chatHeading: byId("chat-heading"),
};

const state = {
  settings: loadSettings(storage),
  apiKey: loadApiKey(storage),
  running: undefined,
  afterKey: [],
  /** The service's request limits (GET /info); the history sent keeps to them. */
  limits: DEFAULT_LIMITS,
  /** Conversations kept in this browser, most recent first; `active` is the one shown. */
  conversations: loadConversations(storage),
  active: undefined,
};

// ---- errors and status ----
function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = false;
}
function clearError() {
  ui.error.hidden = true;
  ui.error.textContent = "";
}
function setStatus(text) {
  ui.status.textContent = text;
}

// ---- API key ----
function askForKey(retry) {
  if (retry) state.afterKey.push(retry);
  ui.keyButton.hidden = false;
  ui.keyInput.value = state.apiKey;
  if (!ui.keyDialog.open) ui.keyDialog.showModal();
}
ui.keyForm.addEventListener("submit", () => {
  state.apiKey = ui.keyInput.value.trim();
  saveApiKey(storage, state.apiKey);
  clearError();
  for (const retry of state.afterKey.splice(0)) retry();
});
ui.keyForget.addEventListener("click", () => {
  state.apiKey = "";
  saveApiKey(storage, "");
  ui.keyInput.value = "";
});
ui.keyButton.addEventListener("click", () => askForKey());
if (state.apiKey) ui.keyButton.hidden = false;

async function api(path) {
  try {
    return await getJson(path, { key: state.apiKey });
  } catch (error) {
    if (error.kind === "unauthorized") askForKey();
    throw error;
  }
}

// ---- theme ----
setupThemeToggle(storage, ui.themeToggle);

// ---- settings ----
function fillSettingsForm() {
  for (const name of Object.keys(NUMERIC_SETTINGS)) {
    byId(name).value = state.settings[name] === undefined ? "" : String(state.settings[name]);
  }
}
function readSettingsForm() {
  const settings = { author: ui.author.value };
  for (const name of Object.keys(NUMERIC_SETTINGS)) {
    const input = byId(name);
    const value = parseSetting(name, input.value);
    input.setAttribute("aria-invalid", String(input.value !== "" && value === undefined));
    if (value !== undefined) settings[name] = value;
  }
  return settings;
}
ui.settingsForm.addEventListener("input", () => {
  state.settings = readSettingsForm();
  saveSettings(storage, state.settings);
});
ui.settingsForm.addEventListener("submit", (event) => event.preventDefault());
fillSettingsForm();

async function loadAuthors() {
  let authors;
  try {
    authors = await api("/authors");
  } catch (error) {
    if (error.kind === "unauthorized") {
      state.afterKey.push(loadAuthors);
      return;
    }
    if (error.status === 404) return; // No author list on this service: "any author" only.
    showError(`Could not load the authors: ${error.message}`);
    return;
  }
  const options = authors.map((author) => element("option", { value: author.id }, author.fullName));
  ui.author.replaceChildren(ui.author.options[0], ...options);
  const saved = state.settings.author;
  ui.author.value = authors.some((author) => author.id === saved) ? saved : "";
}

// The service says when the offline demo model answers (GET /info, public).
async function loadModelInfo() {
  try {
    const info = await getJson("/info");
    ui.demoBanner.hidden = info?.model?.demo !== true;
    state.limits = limitsFrom(info);
    if (state.limits.maxQueryChars > 0) ui.question.maxLength = state.limits.maxQueryChars;
  } catch {
    // An older service without /info: nothing to say.
  }
}

// ---- conversation ----
function requestBody(query, history, { regenerate = false } = {}) {
  const body = { query };
  // "Regenerate" asks for a new answer: the answer cache must not hand back the same one.
  if (regenerate) body.cache = false;
  const settings = state.settings;
  if (settings.author) body.author = settings.author;
  for (const name of Object.keys(NUMERIC_SETTINGS)) {
    if (settings[name] !== undefined) body[name] = settings[name];
  }
  if (history.length > 0) body.history = history;
  return body;
}

/** Whether the reader is at the end of the page (then the streamed answer is followed). */
function nearBottom() {
  return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
}

function setRunning(running) {
  ui.send.disabled = running;
  ui.stop.disabled = !running;
  ui.composer.setAttribute("aria-busy", String(running));
}

/** Saves a conversation (its turns, title and time) and redraws the list. */
function persist(conversation) {
  conversation.updatedAt = Date.now();
  if (!state.conversations.includes(conversation)) state.conversations.unshift(conversation);
  state.conversations.sort((left, right) => right.updatedAt - left.updatedAt);
  if (!saveConversation(storage, conversation)) {
    setStatus("This conversation could not be saved in the browser (storage full or disabled).");
  }
  renderList();
}

/** The Regenerate button goes on the last answer of the conversation shown, when nothing runs. */
function placeRegenerate() {
  for (const button of ui.conversation.querySelectorAll(".regenerate-answer")) button.remove();
  const last = ui.conversation.lastElementChild;
  const actions = last?.classList.contains("turn-twin") ? last.querySelector(".answer-actions") : null;
  if (actions && !state.running && state.active.turns.length > 0) {
    actions.prepend(regenerateButton(() => regenerate()));
  }
}

function regenerate() {
  const turn = state.active.turns.at(-1);
  if (turn === undefined || state.running) return;
  // The button goes away with the answer it replaces: the question box takes the focus.
  ui.question.focus();
  ask(turn.question, { regenerate: true });
}

/**
 * Asks `query` in the conversation shown, with the earlier turns as history (within the service's
 * limits). `regenerate` replaces the last answer: its question is asked again with the turns before it.
 */
async function ask(query, { regenerate = false } = {}) {
  clearError();
  const conversation = state.active;
  if (regenerate) {
    conversation.turns.pop();
    ui.conversation.lastElementChild?.remove();
  } else {
    ui.conversation.append(userTurn(query));
  }
  ui.emptyHint.hidden = true;
  const history = historyFor(conversation.turns, state.limits);
  const turn = { question: query, answer: "", status: "running", sources: null, footer: "" };
  conversation.turns.push(turn);
  if (conversation.title === "") conversation.title = titleFrom(query);
  persist(conversation);
  const view = twinTurn();
  ui.conversation.append(view.turn);
  view.turn.scrollIntoView({ block: "end" });
  const controller = new AbortController();
  // Status and errors are said only while this conversation is the one shown.
  const say = (text) => {
    if (state.active === conversation) setStatus(text);
  };
  state.running = controller;
  setRunning(true);
  say("Retrieving sources…");
  let tokens = 0;
  try {
    for await (const { event, data } of streamRag(requestBody(query, history, { regenerate }), {
      key: state.apiKey,
      signal: controller.signal,
    })) {
      if (event === "trace") {
        view.traceId = data.traceId;
        turn.traceId = data.traceId;
      } else if (event === "sources") {
        turn.sources = compactSources(data);
        view.sources.replaceChildren(sourcesSection(data));
        say(`${data.sources?.length ?? 0} sources found. Writing…`);
      } else if (event === "token") {
        tokens += 1;
        const following = nearBottom();
        turn.answer += data.text;
        renderAnswer(view, turn.answer);
        if (following) window.scrollTo({ top: document.documentElement.scrollHeight });
      } else if (event === "done") {
        view.turn.classList.add("turn-done");
        turn.status = "done";
        const following = nearBottom();
        turn.footer = `${data.usage?.completionTokens ?? tokens} tokens · ${formatMs(data.timings?.totalMs)} · ${data.finishReason}`;
        view.footer.textContent = turn.footer;
        if (view.traceId) view.turn.append(feedbackForm(view.traceId, { key: () => state.apiKey }));
        if (following) view.footer.scrollIntoView({ block: "nearest" });
        say("Answer complete.");
      } else if (event === "error") {
        throw describeFailure(0, data.code, data.message, data.requestId);
      }
    }
  } catch (error) {
    view.sources.querySelector(".pending")?.remove();
    if (error.kind === "aborted" || controller.signal.aborted) {
      view.turn.classList.add("turn-stopped");
      turn.status = "stopped";
      turn.footer = `Stopped after ${tokens} tokens.`;
      view.footer.textContent = turn.footer;
      say("Stopped.");
    } else {
      view.turn.classList.add("turn-failed");
      turn.status = "failed";
      turn.footer = error.message ?? String(error);
      view.footer.textContent = turn.footer;
      if (state.active === conversation) showError(turn.footer);
      say("");
      if (error.kind === "unauthorized") {
        askForKey(() => {
          if (state.active === conversation && conversation.turns.at(-1) === turn) ask(query, { regenerate: true });
        });
      }
    }
  } finally {
    if (turn.status === "running") turn.status = "stopped";
    view.answer.setAttribute("aria-busy", "false");
    view.turn.insertBefore(
      answerActions(() => turn.answer),
      view.footer.nextSibling,
    );
    state.running = undefined;
    setRunning(false);
    persist(conversation);
    // On the conversation shown now (another one when the user switched while this one ran).
    placeRegenerate();
  }
}

// ---- conversations ----
function showConversation(conversation) {
  state.running?.abort();
  state.active = conversation;
  saveActiveId(storage, conversation.id);
  ui.chatHeading.textContent = `Conversation: ${displayTitle(conversation)}`;
  ui.conversation.replaceChildren(...conversation.turns.flatMap(restoredTurn));
  ui.emptyHint.hidden = conversation.turns.length > 0;
  clearError();
  setStatus("");
  placeRegenerate();
  renderList();
}

function renderList() {
  const shown = state.conversations.includes(state.active)
    ? state.conversations
    : [state.active, ...state.conversations];
  ui.chatHeading.textContent = `Conversation: ${displayTitle(state.active)}`;
  renderConversationList(ui.conversationList, {
    conversations: shown,
    activeId: state.active.id,
    onOpen: (conversation) => {
      if (conversation !== state.active) showConversation(conversation);
      ui.question.focus();
    },
    onRename: (conversation, title) => {
      conversation.title = title;
      persist(conversation);
    },
    onDelete: (conversation) => {
      deleteConversation(storage, conversation.id);
      state.conversations = state.conversations.filter((other) => other !== conversation);
      if (conversation === state.active) showConversation(state.conversations[0] ?? newConversation());
      else renderList();
      ui.newConversation.focus();
    },
  });
}

ui.newConversation.addEventListener("click", () => {
  // An empty conversation is already new: no second one.
  if (state.active.turns.length > 0) showConversation(newConversation());
  ui.question.focus();
});

{
  const savedId = loadActiveId(storage);
  state.active =
    state.conversations.find((conversation) => conversation.id === savedId) ??
    state.conversations[0] ??
    newConversation();
  showConversation(state.active);
}

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const query = ui.question.value.trim();
  if (query === "" || state.running) return;
  ui.question.value = "";
  ask(query);
});
ui.question.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  } else if (event.key === "Escape" && state.running) {
    state.running.abort();
  }
});
ui.stop.addEventListener("click", () => {
  state.running?.abort();
  ui.question.focus();
});

// ---- views ----
function showView() {
  const traces = location.hash === "#traces";
  ui.chatView.hidden = traces;
  ui.tracesView.hidden = !traces;
  ui.navChat.toggleAttribute("aria-current", !traces);
  ui.navTraces.toggleAttribute("aria-current", traces);
  if (ui.navChat.hasAttribute("aria-current")) ui.navChat.setAttribute("aria-current", "page");
  if (ui.navTraces.hasAttribute("aria-current")) ui.navTraces.setAttribute("aria-current", "page");
  if (traces) refreshTraces();
}
function refreshTraces() {
  renderTraces({ list: ui.tracesList, status: ui.tracesStatus, load: api }).catch(() => {});
}
ui.tracesRefresh.addEventListener("click", refreshTraces);
window.addEventListener("hashchange", showView);

showView();
loadModelInfo();
loadAuthors();
ui.question.focus();
