// The list of conversations kept in this browser: open one, rename it (in place: Enter keeps,
// Escape cancels) or delete it (after a confirmation). The page owns the data; this draws it.
import { displayTitle } from "./conversations.js";
import { element } from "./dom.js";

function renameField(item, conversation, { onRename, focusAfter }) {
  const title = displayTitle(conversation);
  const input = element("input", {
    type: "text",
    className: "conversation-title-input",
    maxLength: 80,
    "aria-label": `New name for “${title}”`,
  });
  input.value = conversation.title;
  let done = false;
  const finish = (keep) => {
    if (done) return;
    done = true;
    const name = input.value.trim();
    onRename(conversation, keep && name !== "" ? name : conversation.title);
    focusAfter(conversation.id);
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      finish(true);
    } else if (event.key === "Escape") {
      event.preventDefault();
      finish(false);
    }
  });
  input.addEventListener("blur", () => finish(true));
  item.querySelector(".conversation-open").replaceWith(input);
  input.focus();
  input.select();
}

/**
 * Draws `conversations` into `list` (`activeId` marked with aria-current). `onOpen(conversation)`,
 * `onRename(conversation, title)`, `onDelete(conversation)` are the page's handlers.
 */
export function renderConversationList(list, { conversations, activeId, onOpen, onRename, onDelete }) {
  const focusAfter = (id) => {
    list.querySelector(`[data-id="${CSS.escape(id)}"] .conversation-rename`)?.focus();
  };
  const items = conversations.map((conversation) => {
    const title = displayTitle(conversation);
    const open = element(
      "button",
      {
        type: "button",
        className: "conversation-open",
        "aria-current": conversation.id === activeId ? "true" : undefined,
        title,
      },
      title,
    );
    const rename = element(
      "button",
      { type: "button", className: "quiet conversation-rename", "aria-label": `Rename “${title}”` },
      "Rename",
    );
    const remove = element(
      "button",
      { type: "button", className: "quiet conversation-delete", "aria-label": `Delete “${title}”` },
      "Delete",
    );
    const item = element("li", { className: "conversation-item", "data-id": conversation.id }, [open, rename, remove]);
    open.addEventListener("click", () => onOpen(conversation));
    rename.addEventListener("click", () => renameField(item, conversation, { onRename, focusAfter }));
    remove.addEventListener("click", () => {
      if (window.confirm(`Delete the conversation “${title}”? This cannot be undone.`)) onDelete(conversation);
    });
    return item;
  });
  list.replaceChildren(...items);
}
