/**
 * A real HTTP server on loopback that speaks the OpenAI chat completions API as a judge would:
 * `POST /v1/chat/completions` answers with scripted replies. By default the replies are well-formed
 * and deterministic (mechanics, not judgement); a `script` function can return malformed JSON,
 * wrong shapes, HTTP errors or hang, per request. Every request is recorded for assertions.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type JudgeRequest = {
  model: string;
  schemaName: string;
  responseFormat: unknown;
  messages: { role: string; content: string }[];
  authorization: string | undefined;
  /** The request's `max_tokens`, when sent. */
  maxTokens?: number;
};

export type ScriptedReply =
  | { kind: "valid" }
  /** The assistant message content, sent as is (may be junk). */
  | { kind: "content"; content: string }
  /** A raw HTTP reply. */
  | { kind: "http"; status: number; body: string }
  /** Never answers (the client's timeout must fire). */
  | { kind: "hang" };

export type ScriptedJudge = {
  url: string;
  requests: JudgeRequest[];
  close(): Promise<void>;
};

/** The well-formed reply for a schema name, derived mechanically from the prompt. */
export function validJudgeContent(request: JudgeRequest): string {
  const prompt = request.messages.map((message) => message.content).join("\n");
  switch (request.schemaName) {
    case "faithfulness":
      return JSON.stringify({
        items: [
          { claim: "first claim", supported: true },
          { claim: "second claim", supported: true },
          { claim: "third claim", supported: false },
          { claim: "fourth claim", supported: true },
        ],
      });
    case "answer_relevance":
      return JSON.stringify({ score: 4, reason: "scripted judge" });
    case "context_precision": {
      const passages = new Set(prompt.match(/^\[\d+\]/gm) ?? []).size;
      return JSON.stringify({
        items: Array.from({ length: passages }, (_, index) => ({
          passage: String(index + 1),
          useful: index % 2 === 0,
        })),
      });
    }
    case "context_recall":
      return JSON.stringify({
        items: [
          { statement: "first statement", attributed: true },
          { statement: "second statement", attributed: false },
        ],
      });
    default:
      return JSON.stringify({ error: `unknown schema ${request.schemaName}` });
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => resolve(body));
    request.on("error", reject);
  });
}

export async function startScriptedJudge(
  script: (request: JudgeRequest, index: number) => ScriptedReply = () => ({ kind: "valid" }),
  port = 0,
): Promise<ScriptedJudge> {
  const requests: JudgeRequest[] = [];
  const hanging = new Set<() => void>();
  const server: Server = createServer((request, response) => {
    void (async () => {
      if (request.method !== "POST" || request.url !== "/v1/chat/completions") {
        response.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"not found"}}');
        return;
      }
      const parsed = JSON.parse(await readBody(request)) as {
        model: string;
        messages: { role: string; content: string }[];
        response_format?: { json_schema?: { name?: string } };
        max_tokens?: number;
      };
      const judgeRequest: JudgeRequest = {
        model: parsed.model,
        schemaName: parsed.response_format?.json_schema?.name ?? "",
        responseFormat: parsed.response_format,
        messages: parsed.messages,
        authorization: request.headers.authorization,
        ...(typeof parsed.max_tokens === "number" ? { maxTokens: parsed.max_tokens } : {}),
      };
      const index = requests.push(judgeRequest) - 1;
      const reply = script(judgeRequest, index);
      if (reply.kind === "hang") {
        hanging.add(() => response.destroy());
        return;
      }
      if (reply.kind === "http") {
        response.writeHead(reply.status, { "content-type": "application/json" }).end(reply.body);
        return;
      }
      const content = reply.kind === "content" ? reply.content : validJudgeContent(judgeRequest);
      response.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: `chatcmpl-${index}`,
          object: "chat.completion",
          model: parsed.model,
          choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: async () => {
      for (const destroy of hanging) destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
