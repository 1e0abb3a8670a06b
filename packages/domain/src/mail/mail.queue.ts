import type { PgBoss } from 'pg-boss';
import type { MailQueueOptions } from './mail.types.js';
import { MAIL_DEAD_LETTER_QUEUE, MAIL_SEND_QUEUE } from './mail.types.js';

/**
 * Creates (or updates the retry policy of) the mail queue and its dead-letter queue. pg-boss needs a
 * queue to exist before `send` and `work`; both the API side and the worker call this at start.
 */
export async function ensureMailQueues(boss: PgBoss, options: MailQueueOptions = {}): Promise<void> {
  const policy = {
    // 10 s doubling over 10 attempts still spans an SMTP outage of about three hours, and a message
    // whose worker died is sent again within seconds rather than a minute
    retryLimit: options.retryLimit ?? 10,
    retryDelay: options.retryDelaySeconds ?? 10,
    retryBackoff: true,
    retryDelayMax: options.retryDelayMaxSeconds ?? 3600,
    expireInSeconds: 300,
    // a worker that dies mid-send stops its heartbeats: the message is retried within seconds, not
    // after `expireInSeconds` (and the idempotency key keeps an already-sent one from going twice)
    heartbeatSeconds: 10,
    // Keep failed messages for 30 days in the dead-letter queue.
    deleteAfterSeconds: 30 * 86_400,
    deadLetter: MAIL_DEAD_LETTER_QUEUE,
  };
  const ensure = async (name: string, opts: Record<string, unknown>) => {
    if (await boss.getQueue(name)) {
      if (Object.keys(opts).length) await boss.updateQueue(name, opts);
      return;
    }
    try {
      await boss.createQueue(name, opts);
    } catch (err) {
      // Another process created it between our check and our create.
      if (!(await boss.getQueue(name))) throw err;
      if (Object.keys(opts).length) await boss.updateQueue(name, opts);
    }
  };
  await ensure(MAIL_DEAD_LETTER_QUEUE, { retentionSeconds: 30 * 86_400, deleteAfterSeconds: 30 * 86_400 });
  await ensure(MAIL_SEND_QUEUE, policy);
}
