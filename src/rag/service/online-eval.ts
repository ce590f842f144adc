/** Builds the RAG service's online evaluator from its settings (none when --online-eval-rate is 0). */
import type { Registry } from "prom-client";
import { createOpenAiJudge } from "../../eval/generation/judge.js";
import { createOnlineEvaluator, type OnlineEvaluator } from "../../eval/online/online-evaluator.js";
import { buildFromCounted, countDocuments, DEFAULT_VOICE_OPTIONS, readVoiceCorpus } from "../../eval/voice/index.js";
import type { RagServiceSettings } from "./settings.js";

export async function createServiceOnlineEvaluator(
  settings: RagServiceSettings,
  registry: Registry,
): Promise<OnlineEvaluator | undefined> {
  if (settings.onlineEvalRate <= 0) return undefined;
  const judge =
    settings.judgeUrl === undefined
      ? undefined
      : createOpenAiJudge({
          url: settings.judgeUrl,
          model: settings.judgeModel,
          timeoutMs: settings.judgeTimeoutMs,
          // Live answers keep coming: a failed call is not retried, the cool-down handles outages.
          retries: 0,
          ...(settings.judgeApiKey === undefined ? {} : { apiKey: settings.judgeApiKey }),
        });
  let voice: Awaited<ReturnType<typeof buildFromCounted>> | undefined;
  if (settings.voiceCorpus !== undefined) {
    const { documents } = await readVoiceCorpus(settings.voiceCorpus, "--voice-corpus");
    voice = buildFromCounted(countDocuments(documents, DEFAULT_VOICE_OPTIONS.ngramSize), DEFAULT_VOICE_OPTIONS);
  }
  return createOnlineEvaluator({
    rate: settings.onlineEvalRate,
    queueCapacity: settings.onlineEvalQueue,
    registry,
    ...(judge === undefined ? {} : { judge }),
    ...(voice === undefined ? {} : { voice }),
  });
}
