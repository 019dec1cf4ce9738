// Ratios from interleaved rounds. This machine's speed drifts by up to 2× within minutes (other
// work on the host), so reelay's peak and the peers' are measured in alternation and each round's
// ratio compares figures taken minutes apart at most; the median round is the one reported.

import { median } from './stats.mjs';

export { median };

/** Index of the item whose `key` is the median: its other figures are reported with it. */
export function medianIndex(items, key) {
  const m = median(items.map(key));
  return items.findIndex((x) => key(x) === m);
}

/**
 * Per round: reelay's jobs/s over the better of BullMQ and pg-boss, and over bare JetStream; the
 * medians of those ratios and of the peers' figures.
 * `reelay[i]` and `peers[i]` are the same round; extra rounds on either side are ignored.
 */
export function roundRatios(reelay, peers) {
  const n = Math.min(reelay.length, peers.length);
  const rounds = Array.from({ length: n }, (_, i) => {
    const p = peers[i];
    const best = Math.max(p.bullmq.jobsPerSecond, p.pgboss.jobsPerSecond);
    return { reelay: reelay[i], best, jetstream: p.jetstream.jobsPerSecond, vsBest: reelay[i] / best, vsJetStream: reelay[i] / p.jetstream.jobsPerSecond };
  });
  const mid = (key) => median(rounds.map((r) => r[key]));
  return { rounds, vsBest: mid('vsBest'), vsJetStream: mid('vsJetStream'), best: mid('best'), jetstream: mid('jetstream') };
}

/** Each pipeline's median jobs/s over the rounds, and every round's figure. */
export function peerMedians(peerRounds) {
  const names = Object.keys(peerRounds[0] ?? {});
  return Object.fromEntries(
    names.map((name) => {
      const all = peerRounds.map((r) => r[name]);
      return [name, { ...all[medianIndex(all, (x) => x.jobsPerSecond)], rounds: all.map((x) => x.jobsPerSecond) }];
    }),
  );
}
