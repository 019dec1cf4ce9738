import type { AdapterFactory } from '../config/adapter-factory';
import { OpenAIAdapter } from './openai-adapter';

/** Env: OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_TIMEOUT_MS, OPENAI_WEBHOOK_SECRET, OPENAI_ORGANIZATION, OPENAI_PROJECT. */
export const openaiFactory: AdapterFactory = {
  name: 'openai',
  envPrefix: 'OPENAI',
  simPath: '/openai/v1',
  create: (config, env) =>
    new OpenAIAdapter({
      ...config,
      webhookSecret: env.OPENAI_WEBHOOK_SECRET || undefined,
      organization: env.OPENAI_ORGANIZATION || undefined,
      project: env.OPENAI_PROJECT || undefined,
    }),
};
