// Container health check (Dockerfile HEALTHCHECK, docker-compose): GET http://127.0.0.1:<port>/health
// must answer 2xx within 4 s. The port is the first argument, else API_PORT, else 8080. Plain Node,
// no dependencies: the image has neither curl nor wget.
const port = process.argv[2] ?? process.env.API_PORT ?? '8080';
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
