/** Spawning the real `llm-twin` CLI for end-to-end tests, on free loopback ports. */
export {
  type CliProcess,
  generateWhenHealthy,
  serveFlags,
  spawnCli,
  spawnNodeScript,
  spawnServeLlm,
  stop,
  waitForStatus,
} from "../../src/testing/cli-process.js";
export { freePort } from "../../src/testing/free-port.js";
