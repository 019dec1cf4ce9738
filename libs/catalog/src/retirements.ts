/**
 * Provider model ids whose providers announced the day they stop serving them. From that day (UTC)
 * on, a catalog model served only by retired ids is no longer offered: a submit for it answers 400 (a model not offered)
 * and a job already accepted fails with its own message before any provider call, instead of every
 * job meeting the provider's 404 as an unexplained error. An operator who points the model at a
 * newer id (`<PROVIDER>_MODEL_IDS`) brings it back. Retirements do not apply to providers served by
 * the simulator, which keeps every model.
 */
export interface Retirement {
  provider: string;
  providerModel: string;
  /** YYYY-MM-DD, UTC. */
  on: string;
}

export const RETIREMENTS: Retirement[] = [
  // OpenAI: "The Sora API is scheduled to permanently shut down on September 24, 2026" (openai-node's videos.* deprecation, v7.5.0).
  { provider: 'openai', providerModel: 'sora-2', on: '2026-09-24' },
  { provider: 'openai', providerModel: 'sora-2-pro', on: '2026-09-24' },
  // Google shut the Gemini API's Veo 3.1 preview ids down on 2026-10-22 (status notices; calls answer 404 "is no longer available").
  { provider: 'veo', providerModel: 'veo-3.1-generate-preview', on: '2026-10-22' },
  { provider: 'veo', providerModel: 'veo-3.1-fast-generate-preview', on: '2026-10-22' },
  { provider: 'veo', providerModel: 'veo-3.1-lite-generate-preview', on: '2026-10-22' },
];
