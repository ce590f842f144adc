export {
  createLoadBalancedLanguageModel,
  type LoadBalancedLanguageModel,
  type LoadBalancerOptions,
  type Replica,
  type ReplicaStats,
} from "./load-balancer.js";
