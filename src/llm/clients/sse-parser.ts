/**
 * A Server-Sent Events parser following the WHATWG event-stream rules: lines end with CRLF, LF or
 * CR (a CR at the end of one chunk may be followed by the LF of the next), `data:` lines of one
 * event are joined with "\n", comment lines (starting with ":") are ignored, a single space after
 * the colon is dropped, and bytes are decoded as UTF-8 across chunk boundaries. Unlike a browser,
 * an event still pending when the stream ends is delivered (some servers omit the last blank line).
 */

export type ServerSentEvent = {
  /** The `event:` field, "message" when absent. */
  event: string;
  data: string;
  id?: string;
  retry?: number;
};

export type SseParser = {
  /** Feed a chunk (bytes or text); returns the events completed by it. */
  push(chunk: Uint8Array | string): ServerSentEvent[];
  /** Flush at end of stream; returns a last event that was not followed by a blank line. */
  end(): ServerSentEvent[];
};

export function createSseParser(): SseParser {
  const decoder = new TextDecoder("utf-8");
  let buffer = "";
  let firstChunk = true;
  let dataLines: string[] = [];
  let eventType = "";
  let lastId: string | undefined;
  let retry: number | undefined;
  let sawField = false;

  const dispatch = (events: ServerSentEvent[]): void => {
    if (sawField && dataLines.length > 0) {
      const event: ServerSentEvent = { event: eventType === "" ? "message" : eventType, data: dataLines.join("\n") };
      if (lastId !== undefined) event.id = lastId;
      if (retry !== undefined) event.retry = retry;
      events.push(event);
    }
    dataLines = [];
    eventType = "";
    retry = undefined;
    sawField = false;
  };

  const processLine = (line: string, events: ServerSentEvent[]): void => {
    if (line === "") {
      dispatch(events);
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        dataLines.push(value);
        sawField = true;
        break;
      case "event":
        eventType = value;
        sawField = true;
        break;
      case "id":
        if (!value.includes("\u0000")) lastId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) retry = Number(value);
        break;
      default:
        // Unknown fields are ignored, as the specification says.
        break;
    }
  };

  const drainLines = (final: boolean): ServerSentEvent[] => {
    const events: ServerSentEvent[] = [];
    let start = 0;
    for (let index = 0; index < buffer.length; index++) {
      const character = buffer.charCodeAt(index);
      if (character !== 10 && character !== 13) continue;
      if (character === 13 && index === buffer.length - 1 && !final) {
        // A CR at the very end may be the first half of a CRLF split across chunks: wait for more.
        break;
      }
      processLine(buffer.slice(start, index), events);
      if (character === 13 && buffer.charCodeAt(index + 1) === 10) index++;
      start = index + 1;
    }
    buffer = buffer.slice(start);
    return events;
  };

  return {
    push(chunk) {
      let text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
      if (firstChunk && text.length > 0) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        firstChunk = false;
      }
      buffer += text;
      return drainLines(false);
    },
    end() {
      buffer += decoder.decode();
      const events = drainLines(true);
      if (buffer.length > 0) {
        processLine(buffer, events);
        buffer = "";
      }
      dispatch(events);
      return events;
    },
  };
}

/** Parse a byte or text stream into events. */
export async function* parseSseStream(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<ServerSentEvent> {
  const parser = createSseParser();
  for await (const chunk of source) {
    for (const event of parser.push(chunk)) yield event;
  }
  for (const event of parser.end()) yield event;
}
