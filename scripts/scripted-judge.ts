/**
 * Runs the scripted OpenAI-compatible judge of the tests (src/testing/scripted-judge.ts) as a
 * process, to exercise `llm-twin eval generation --judge-url` end to end without a real model:
 *
 *   node --import tsx scripts/scripted-judge.ts --port 8099 &
 *   llm-twin eval generation --questions llm-twin --model demo --judge-url http://127.0.0.1:8099
 *
 * Its replies are well-formed and fixed (mechanics, not judgement). Stops on SIGINT/SIGTERM.
 */
import { startScriptedJudge } from "../src/testing/scripted-judge.js";

const portFlag = process.argv.indexOf("--port");
const port = portFlag >= 0 ? Number(process.argv[portFlag + 1]) : 0;
const judge = await startScriptedJudge(undefined, port);
process.stdout.write(`scripted judge listening on ${judge.url}\n`);
const stop = () => {
  void judge.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
