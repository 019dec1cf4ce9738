// Starts provider-sim through startService (the built lib), prints its pid, then ends as argv[2] says.
const { startService } = require('../dist/index.js');

void (async () => {
  const sim = await startService('provider-sim', {}, 'PORT');
  await sim.ready(20_000, '/_sim/health');
  process.stdout.write(`${sim.child.pid}\n`);
  if (process.argv[2] === 'throw') throw new Error('the bench crashed');
  if (process.argv[2] === 'exit') process.exit(3);
  setInterval(() => undefined, 1000); // 'signal': runs until interrupted
})();
