/**
 * The four operations of `llm-twin deploy sagemaker`: create, update, status, delete.
 * Idempotent: resources are named from --name and their content, each step first looks for what
 * exists, and re-running an operation finishes what an interrupted one started.
 */
export { type DeployResult, deploy } from "./create.js";
export { type DeleteResult, remove } from "./delete.js";
export { type DeploymentStatus, status } from "./status.js";
export type { DeployContext } from "./steps.js";
