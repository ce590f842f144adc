// One exchange of the conversation in the DOM: the question bubble, then the twin's turn (sources,
// the answer rendered as Markdown, a footer, and the Copy / Regenerate actions).
import { element } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { sourcesSection } from "./sources.js";

export function userTurn(question) {
  return element("li", { className: "turn turn-user" }, [
    element("h3", { className: "visually-hidden" }, "You"),
    element("p", { className: "bubble" }, question),
  ]);
}

/** An empty twin turn, waiting for its sources and answer. */
export function twinTurn() {
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
  return { turn, answer, sources, footer };
}

/** Draws the answer's Markdown again (called on each streamed token and when restoring). */
export function renderAnswer(view, markdown) {
  view.answer.replaceChildren(renderMarkdown(markdown));
}

/** Copies text to the clipboard; the hidden-textarea fallback serves pages the Clipboard API refuses. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = element("textarea", { className: "visually-hidden", readonly: true, "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    area.remove();
    return copied;
  }
}

/** The actions under a finished answer: Copy (the raw Markdown); Regenerate is placed on the last one. */
export function answerActions(getMarkdown) {
  const status = element("span", { className: "action-status", role: "status" });
  const copy = element(
    "button",
    { type: "button", className: "quiet copy-answer", "aria-label": "Copy the answer (Markdown)" },
    "Copy",
  );
  copy.addEventListener("click", async () => {
    status.textContent = (await copyText(getMarkdown())) ? "Copied." : "Could not copy: the browser refused.";
  });
  return element("div", { className: "answer-actions", role: "group", "aria-label": "Answer actions" }, [copy, status]);
}

export function regenerateButton(onClick) {
  const button = element(
    "button",
    { type: "button", className: "quiet regenerate-answer", "aria-label": "Regenerate the answer" },
    "Regenerate",
  );
  button.addEventListener("click", onClick);
  return button;
}

/** A stored turn drawn again: [question, twin turn]. */
export function restoredTurn(turn) {
  const view = twinTurn();
  view.answer.setAttribute("aria-busy", "false");
  view.sources.replaceChildren(turn.sources ? sourcesSection(turn.sources) : "");
  renderAnswer(view, turn.answer);
  view.footer.textContent = turn.footer ?? "";
  view.turn.classList.add(`turn-${turn.status === "done" ? "done" : turn.status}`);
  view.turn.append(answerActions(() => turn.answer));
  return [userTurn(turn.question), view.turn];
}
