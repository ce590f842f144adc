/** Server-sent events framing: `event: <type>` and one `data:` line of JSON, then a blank line. */

export function sseEvent(event: string, data: unknown): string {
  // JSON.stringify never emits raw newlines, so one data line always suffices.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function wantsEventStream(accept: string | undefined, stream: boolean | undefined): boolean {
  if (stream !== undefined) return stream;
  return accept?.toLowerCase().includes("text/event-stream") === true;
}
