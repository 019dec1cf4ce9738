import { cpus, totalmem, platform, release, tmpdir } from 'node:os';
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { execSync } from 'node:child_process';

export function machineInfo() {
  const cpu = cpus();
  let pg = 'unknown';
  try {
    pg = execSync('psql --version', { encoding: 'utf8' }).trim();
  } catch {}
  return {
    cores: cpu.length,
    cpu: cpu[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    postgres: pg,
    storage: filesystemOf(tmpdir()),
  };
}

/** Type and device of the filesystem holding `dir`; for ext4 also whether it keeps a journal. */
function filesystemOf(dir) {
  try {
    const [type, source] = execSync(`findmnt -no FSTYPE,SOURCE -T ${JSON.stringify(dir)}`, { encoding: 'utf8' }).trim().split(/\s+/);
    if (type !== 'ext4') return `${type} on ${source}`;
    // A journaled ext4 has a jbd2 entry named after its device (e.g. vda-8); one without a journal has none.
    const journaled = readdirSync('/proc/fs/jbd2').some((d) => d.startsWith(`${basename(source)}-`));
    return `ext4 on ${source} (${journaled ? 'journaled' : 'no journal'})`;
  } catch {
    return 'unknown';
  }
}
