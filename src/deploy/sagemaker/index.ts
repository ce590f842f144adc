export { createDeployClients, type DeployClients, destroyDeployClients } from "./aws.js";
export { type DeployConfig, type DeployConfigInput, resolveDeployConfig } from "./config.js";
export {
  type DeleteResult,
  type DeployContext,
  type DeploymentStatus,
  type DeployResult,
  deploy,
  remove,
  status,
} from "./operations.js";
export { DEPLOY_OPTIONS } from "./options.js";
export { deploymentResources, huggingFaceTgiImage } from "./resources.js";
export { type Clock, systemClock } from "./wait.js";
