import { Catalog } from './catalog';
import { MODELS, type CatalogEntry } from './models';

/**
 * The catalog with provider model ids replaced from `<PROVIDER>_MODEL_IDS` (e.g.
 * `VEO_MODEL_IDS=veo-3.1=veo-3.1-generate-001`; several pairs separated by commas). Providers
 * rename and retire model ids often, so an operator can follow them without a release. A
 * malformed value, an unknown catalog id or a provider the model does not list throws: it is a
 * configuration error, found at startup rather than by failing jobs.
 */
export function withProviderModelIds(env: Record<string, string | undefined>, models: CatalogEntry[] = MODELS): CatalogEntry[] {
  const out = models.map((m) => ({ ...m, providerModels: { ...m.providerModels } }));
  for (const [name, value] of Object.entries(env)) {
    const match = /^([A-Z0-9]+)_MODEL_IDS$/.exec(name);
    if (!match || !value?.trim()) continue;
    const provider = match[1].toLowerCase();
    for (const pair of value.split(',').map((p) => p.trim()).filter(Boolean)) {
      const eq = pair.indexOf('=');
      const [modelId, providerModel] = eq < 0 ? [pair, ''] : [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
      if (!modelId || !providerModel) throw new Error(`${name}: "${pair}" is not <catalog model id>=<${provider} model id>`);
      const entry = out.find((m) => m.id === modelId);
      if (!entry) throw new Error(`${name}: no catalog model "${modelId}" (known: ${out.map((m) => m.id).join(', ')})`);
      if (!entry.providers.includes(provider)) throw new Error(`${name}: ${modelId} is not served by ${provider} (its providers: ${entry.providers.join(', ')})`);
      entry.providerModels[provider] = providerModel;
    }
  }
  return out;
}

/**
 * The catalog a service offers: the models of its configured providers, with the operator's
 * provider model ids, and the announced retirements except at providers the simulator serves.
 */
export function catalogFromEnv(env: Record<string, string | undefined>, configured: Iterable<string>, simulated: readonly string[]): Catalog {
  return new Catalog([...configured], withProviderModelIds(env), { simulated });
}
