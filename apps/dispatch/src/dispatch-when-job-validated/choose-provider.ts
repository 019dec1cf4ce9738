/**
 * The provider for a job that has no submission yet, with a capacity slot taken there (`take`): the
 * first in the catalog's preference order whose circuit lets it through and that has a free slot.
 * A healthy provider whose slots are all taken is passed over for the next one, so load beyond the
 * primary's limit goes to an alternate instead of waiting beside an idle one; null when every
 * healthy provider is full (the job waits for a slot). When every circuit is open, the primary gets
 * the job anyway (it will retry within its bounds) rather than leaving it nowhere. A provider that
 * let the job through but had no slot is told (`passed`): a half-open probe it handed out goes back.
 */
export async function chooseProvider(
  candidates: readonly string[],
  allows: (provider: string) => Promise<boolean>,
  take: (provider: string) => Promise<boolean>,
  passed: (provider: string) => Promise<void> = async () => undefined,
): Promise<string | null> {
  if (candidates.length === 0) throw new Error('no candidate providers');
  let healthy = false;
  for (const provider of candidates) {
    if (!(await allows(provider))) continue;
    healthy = true;
    if (await take(provider)) return provider;
    await passed(provider);
  }
  if (healthy) return null;
  return (await take(candidates[0])) ? candidates[0] : null;
}
