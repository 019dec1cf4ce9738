#!/usr/bin/env node
// Container health probe (the slim base image has neither curl nor wget):
//   healthcheck [path]   → GET http://127.0.0.1:$HEALTH_PORT<path>, exit 0 on 2xx within the timeout.
// The path defaults to $HEALTH_PATH, then /health/live. Exit 1 = unhealthy, 2 = misconfigured.
const path = process.argv[2] || process.env.HEALTH_PATH || '/health/live';
const port = process.env.HEALTH_PORT;
const timeoutMs = Number(process.env.HEALTH_TIMEOUT_MS) || 3000;

if (!port || !/^\d+$/.test(port)) {
  console.error('healthcheck: HEALTH_PORT must be set to the port the service listens on');
  process.exit(2);
}
if (!path.startsWith('/')) {
  console.error('healthcheck: the path must start with /');
  process.exit(2);
}

try {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  await res.body?.cancel();
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
