import { cpus, totalmem, platform, release } from 'node:os';
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
  };
}
