// The chat page: conversation, streaming answers with a Stop button, settings, author selector,
// theme toggle, API key dialog and the traces view. Plain DOM, no framework.
import { describeFailure, getJson, postFeedback, streamRag } from "./api.js";
import { element, formatMs } from "./dom.js";
import {
  loadApiKey,
  loadSettings,
  loadTheme,
  NUMERIC_SETTINGS,
  parseSetting,
  saveApiKey,
  saveSettings,
  saveTheme,
} from "./settings.js";
import { sourcesSection } from "./sources.js";
import { renderTraces } from "./traces.js";

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
};

const state = { settings: loadSettings(storage), apiKey: loadApiKey(storage), running: undefined, afterKey: [] };

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
function effectiveTheme() {
  const chosen = loadTheme(storage);
  if (chosen) return chosen;
  return systemDark.matches ? "dark" : "light";
}
const systemDark = window.matchMedia("(prefers-color-scheme: dark)");
/** A chosen theme is pinned on <html>; without a choice the CSS follows the system's preference. */
function applyTheme(theme) {
  if (loadTheme(storage)) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  const dark = theme === "dark";
  ui.themeToggle.setAttribute("aria-pressed", String(dark));
  ui.themeToggle.textContent = dark ? "Light theme" : "Dark theme";
}
ui.themeToggle.addEventListener("click", () => {
  const next = effectiveTheme() === "dark" ? "light" : "dark";
  saveTheme(storage, next);
  applyTheme(next);
});
systemDark.addEventListener("change", () => applyTheme(effectiveTheme()));
applyTheme(effectiveTheme());

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
  } catch {
    // An older service without /info: nothing to say.
  }
}

// ---- feedback on an answer ----
function feedbackForm(traceId) {
  const status = element("span", { className: "feedback-status", role: "status" });
  const comment = element("input", {
    className: "feedback-comment",
    type: "text",
    maxLength: 2000,
    placeholder: "Optional comment",
    "aria-label": "Comment on this answer (optional)",
  });
  const buttons = ["up", "down"].map((rating) =>
    element(
      "button",
      {
        type: "button",
        className: `feedback-${rating}`,
        "aria-label": rating === "up" ? "Good answer" : "Bad answer",
        "aria-pressed": "false",
      },
      rating === "up" ? "👍" : "👎",
    ),
  );
  const form = element("div", { className: "feedback", role: "group", "aria-label": "Rate this answer" }, [
    ...buttons,
    comment,
    status,
  ]);
  for (const button of buttons) {
    button.addEventListener("click", async () => {
      const rating = button.className === "feedback-up" ? "up" : "down";
      for (const other of buttons) other.disabled = true;
      status.textContent = "Sending…";
      const body = { traceId, rating };
      if (comment.value.trim() !== "") body.comment = comment.value.trim();
      try {
        await postFeedback(body, { key: state.apiKey });
        button.setAttribute("aria-pressed", "true");
        comment.disabled = true;
        status.textContent = "Thanks, feedback recorded.";
      } catch (error) {
        for (const other of buttons) other.disabled = false;
        status.textContent = error.message ?? String(error);
      }
    });
  }
  return form;
}

// ---- conversation ----
function requestBody(query) {
  const body = { query };
  const settings = state.settings;
  if (settings.author) body.author = settings.author;
  for (const name of Object.keys(NUMERIC_SETTINGS)) {
    if (settings[name] !== undefined) body[name] = settings[name];
  }
  return body;
}

function addTurn(query) {
  ui.emptyHint.hidden = true;
  ui.conversation.append(
    element("li", { className: "turn turn-user" }, [
      element("h3", { className: "visually-hidden" }, "You"),
      element("p", { className: "bubble" }, query),
    ]),
  );
  const answer = element("div", { className: "answer", "aria-busy": "true" });
  const sources = element(
    "div",
    { className: "sources-slot" },
    element("p", { className: "hint pending" }, "Retrieving sources…"),
  );
  const footer = element("p", { className: "turn-footer" });
  const turn = element("li", { className: "turn turn-twin" }, [
    element("h3", { className: "visually-hidden" }, "Twin"),
    sources,
    answer,
    footer,
  ]);
  ui.conversation.append(turn);
  turn.scrollIntoView({ block: "end" });
  return { turn, answer, sources, footer };
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

async function ask(query) {
  clearError();
  const view = addTurn(query);
  const controller = new AbortController();
  state.running = controller;
  setRunning(true);
  setStatus("Retrieving sources…");
  const text = view.answer.appendChild(document.createTextNode(""));
  let tokens = 0;
  try {
    for await (const { event, data } of streamRag(requestBody(query), {
      key: state.apiKey,
      signal: controller.signal,
    })) {
      if (event === "trace") {
        view.traceId = data.traceId;
      } else if (event === "sources") {
        view.sources.replaceChildren(sourcesSection(data));
        setStatus(`${data.sources?.length ?? 0} sources found. Writing…`);
      } else if (event === "token") {
        tokens += 1;
        const following = nearBottom();
        text.appendData(data.text);
        if (following) window.scrollTo({ top: document.documentElement.scrollHeight });
      } else if (event === "done") {
        view.turn.classList.add("turn-done");
        const following = nearBottom();
        view.footer.textContent = `${data.usage?.completionTokens ?? tokens} tokens · ${formatMs(data.timings?.totalMs)} · ${data.finishReason}`;
        if (view.traceId) view.turn.append(feedbackForm(view.traceId));
        if (following) view.footer.scrollIntoView({ block: "nearest" });
        setStatus("Answer complete.");
      } else if (event === "error") {
        throw describeFailure(0, data.code, data.message, data.requestId);
      }
    }
  } catch (error) {
    view.sources.querySelector(".pending")?.remove();
    if (error.kind === "aborted" || controller.signal.aborted) {
      view.turn.classList.add("turn-stopped");
      view.footer.textContent = `Stopped after ${tokens} tokens.`;
      setStatus("Stopped.");
    } else {
      view.turn.classList.add("turn-failed");
      view.footer.textContent = error.message ?? String(error);
      showError(error.message ?? String(error));
      setStatus("");
      if (error.kind === "unauthorized") askForKey(() => ask(query));
    }
  } finally {
    view.answer.setAttribute("aria-busy", "false");
    state.running = undefined;
    setRunning(false);
  }
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
