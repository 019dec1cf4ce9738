// Shared by the peers' stage processes: arguments, the trivial unit of work, completion report.
export function stageArgs() {
  const [stage, stages, total, prefix, warm] = process.argv.slice(2);
  return { stage: Number(stage), stages: Number(stages), total: Number(total), prefix, warm: Number(warm ?? 0) };
}

/** The stage's "work": read the job, stamp it, hand it on (a validate/dispatch/poll/notify stand-in). */
export function work(data, stage) {
  return { ...data, [`stage${stage}`]: Date.now() };
}

/**
 * Counts completions in the last stage and reports when the first `warm` jobs (the warm-up, sent
 * before the measured ones) and when all `total` jobs are through.
 */
export function done(total, warm = 0) {
  let n = 0;
  return (k = 1) => {
    n += k;
    if (warm > 0 && n === warm) console.log(`warm ${Date.now()}`);
    if (n === total) console.log(`done ${Date.now()}`);
  };
}

export const payload = (i) => ({
  jobId: `job_${String(i).padStart(10, '0')}`,
  userId: `user-${i % 64}`,
  model: 'gen4.5',
  provider: 'runway',
  prompt: 'a lighthouse at dusk, waves crashing against the rocks, cinematic lighting',
  aspectRatio: '16:9',
  durationSeconds: 5,
  creditsEstimated: 25,
  at: new Date().toISOString(),
});
