/**
 * OpenAI's `stop` on a token stream: text is passed on as it comes, except the tail that could
 * still become a stop sequence, which is held back; at the first stop sequence the rest is dropped.
 */
export type StopFilter = {
  /** The text that can be sent now. */
  push(text: string): string;
  /** What was held back, at the end of the stream. */
  end(): string;
  readonly stopped: boolean;
};

export function createStopFilter(stops: readonly string[]): StopFilter {
  const sequences = stops.filter((stop) => stop !== "");
  const hold = Math.max(0, ...sequences.map((stop) => stop.length - 1));
  let pending = "";
  let stopped = false;
  return {
    get stopped() {
      return stopped;
    },
    push(text) {
      if (stopped) return "";
      if (sequences.length === 0) return text;
      pending += text;
      const at = Math.min(...sequences.map((stop) => pending.indexOf(stop)).filter((index) => index >= 0));
      if (Number.isFinite(at)) {
        stopped = true;
        const out = pending.slice(0, at);
        pending = "";
        return out;
      }
      const out = pending.slice(0, Math.max(0, pending.length - hold));
      pending = pending.slice(out.length);
      return out;
    },
    end() {
      const out = stopped ? "" : pending;
      pending = "";
      return out;
    },
  };
}
