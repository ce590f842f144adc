/**
 * The AWS SDK for JavaScript (v3) prints a multi-line "NodeVersionSupportWarning" on Node 20 the
 * first time a client is built. Its documented switch is the environment variable
 * AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true (aws/aws-sdk-js-v3#7983): call this just
 * before creating an AWS client so users see only llm-twin's own output. A value the user set
 * themselves is left as it is.
 */
export const AWS_NODE_WARNING_VARIABLE = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";

export function silenceAwsNodeVersionWarning(environment: NodeJS.ProcessEnv = process.env): void {
  if (environment[AWS_NODE_WARNING_VARIABLE] === undefined) environment[AWS_NODE_WARNING_VARIABLE] = "true";
}
