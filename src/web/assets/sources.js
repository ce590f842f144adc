// Source cards: title (linked), author, category, score and a snippet of the retrieved text.
import { element, safeLink } from "./dom.js";

const SNIPPET_CHARS = 280;

function snippet(text) {
  const flat = String(text ?? "")
    .replace(/\s+/g, " ")
    .trim();
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}…` : flat;
}

export function sourceCard(source, index) {
  const href = safeLink(source.link);
  const title = source.title || "(untitled)";
  const heading = element("h4", { className: "source-title" }, [
    href ? element("a", { href, target: "_blank", rel: "noopener noreferrer" }, title) : title,
  ]);
  return element("li", { className: "source-card", "data-author": source.author?.fullName ?? "" }, [
    element("article", { "aria-label": `Source ${index + 1}: ${title}` }, [
      heading,
      element("p", { className: "source-meta" }, [
        element("span", { className: "source-author" }, source.author?.fullName ?? "unknown author"),
        " · ",
        element("span", {}, source.category ?? ""),
        " · ",
        element(
          "span",
          { className: "source-score", title: "Relevance score" },
          `score ${Number(source.score).toFixed(3)}`,
        ),
      ]),
      element("p", { className: "source-snippet" }, snippet(source.text)),
      href
        ? element(
            "p",
            { className: "source-link" },
            element("a", { href, target: "_blank", rel: "noopener noreferrer" }, href),
          )
        : null,
    ]),
  ]);
}

export function sourcesSection(event) {
  const sources = event.sources ?? [];
  const details = [];
  if (event.author) details.push(`author: ${event.author.fullName}`);
  if (Array.isArray(event.queries) && event.queries.length > 1) details.push(`queries: ${event.queries.join(" | ")}`);
  return element("section", { className: "sources", "aria-label": "Sources" }, [
    element("h3", { className: "sources-heading" }, [
      `Sources (${sources.length})`,
      details.length > 0 ? element("span", { className: "sources-details" }, ` — ${details.join("; ")}`) : null,
    ]),
    sources.length === 0
      ? element("p", { className: "hint" }, "No sources found for this question.")
      : element("ol", { className: "source-cards" }, sources.map(sourceCard)),
  ]);
}
