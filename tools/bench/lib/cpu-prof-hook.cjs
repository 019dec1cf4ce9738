// Loaded with NODE_OPTIONS="--require <this file>" (Node 20 refuses --cpu-prof in NODE_OPTIONS):
// on SIGUSR2 starts sampling the process's CPU with the in-process inspector (so start-up is not in
// the profile) and writes a .cpuprofile on exit.
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  let started = false;
  process.on('SIGUSR2', () => {
    if (started) return;
    started = true;
    session.post('Profiler.start');
  });
  process.once('exit', () => {
    if (!started) return;
    // The in-process session answers synchronously, so this completes inside the exit handler.
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(join(dir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
