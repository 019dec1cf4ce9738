/**
 * The provider for a job that has no submission yet: the first in the catalog's preference order
 * whose circuit lets it through. When every circuit is open, the primary gets the job anyway (it
 * will retry within its bounds) rather than leaving it nowhere.
 */
export async function chooseProvider(candidates: readonly string[], allows: (provider: string) => Promise<boolean>): Promise<string> {
  if (candidates.length === 0) throw new Error('no candidate providers');
  for (const provider of candidates) {
    if (await allows(provider)) return provider;
  }
  return candidates[0];
}
