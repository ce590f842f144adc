// The rating form under a finished answer: 👍 / 👎 and an optional comment, sent to POST /feedback
// with the answer's trace id. `key()` gives the current API key.
import { postFeedback } from "./api.js";
import { element } from "./dom.js";

export function feedbackForm(traceId, { key }) {
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
        await postFeedback(body, { key: key() });
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
