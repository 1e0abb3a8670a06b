#!/usr/bin/env -S node --import tsx
// The Sightline datasource agent:
//   npm run agent -- --server https://sightline.example.com --secret <secret key>
// (or SIGHTLINE_AGENT_SERVER / SIGHTLINE_AGENT_SECRET, so the key need not appear in `ps`).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent } from './agent.js';

const USAGE = `usage: sightline-agent --server <API server URL> --secret <agent secret key>
  [--allow <host:port>]... [--min-backoff-ms 500] [--max-backoff-ms 30000]
  --allow: databases this agent may connect to (repeat, or comma-separate); default: any
environment: SIGHTLINE_AGENT_SERVER, SIGHTLINE_AGENT_SECRET, SIGHTLINE_AGENT_ALLOW (comma-separated)`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      server: { type: 'string' },
      secret: { type: 'string' },
      allow: { type: 'string', multiple: true },
      'min-backoff-ms': { type: 'string' },
      'max-backoff-ms': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const server = values.server ?? process.env.SIGHTLINE_AGENT_SERVER;
  const secret = values.secret ?? process.env.SIGHTLINE_AGENT_SECRET;
  if (values.help || !server || !secret) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  if (!/^https?:\/\//.test(server)) {
    console.error(`--server must be an http:// or https:// URL, not "${server}"`);
    process.exit(2);
  }
  const ms = (name: string, text: string | undefined, dflt: number) => {
    if (text === undefined) return dflt;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      console.error(`--${name} must be a positive integer`);
      process.exit(2);
    }
    return n;
  };
  const allowText = values.allow?.join(',') ?? process.env.SIGHTLINE_AGENT_ALLOW;
  const allow = allowText
    ?.split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const badAllow = allow?.find((a) => !/^[^\s:]+:\d{1,5}$/.test(a));
  if (badAllow !== undefined) {
    console.error(`--allow takes host:port, not "${badAllow}"`);
    process.exit(2);
  }
  const agent = new Agent({
    allow,
    serverUrl: server,
    secretKey: secret,
    version: version(),
    minBackoffMs: ms('min-backoff-ms', values['min-backoff-ms'], 500),
    maxBackoffMs: ms('max-backoff-ms', values['max-backoff-ms'], 30_000),
    log: (line) => console.log(`${new Date().toISOString()} ${line}`),
  });
  agent.start();
  const stop = () => void agent.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main();
