import type { Knex } from 'knex';
import { newUuid } from '../ids.js';
import type { MailAttachmentRef, MailFile } from './mail.types.js';

/** SQL of idempotent mail: `mail_deliveries` (one row per idempotency key) and `mail_attachments`. */
export class MailDeliveryRepository {
  constructor(private readonly db: Knex) {}

  /**
   * Records an attempt for `key`.
   * @returns `sent` when a message with this key was already handed to SMTP (do not send again),
   *   else `go`
   */
  async claim(key: string, organizationId: string | undefined, now: Date): Promise<'go' | 'sent'> {
    const rows = await this.db.raw(
      `INSERT INTO mail_deliveries (idempotency_key, organization_id, status, attempts, created_at, updated_at)
       VALUES (?, ?, 'sending', 1, ?, ?)
       ON CONFLICT (idempotency_key) DO UPDATE SET attempts = mail_deliveries.attempts + 1, updated_at = EXCLUDED.updated_at
       WHERE mail_deliveries.status <> 'sent'
       RETURNING status`,
      [key, organizationId ?? null, now, now],
    );
    return (rows as { rows: unknown[] }).rows.length ? 'go' : 'sent';
  }

  /** Marks `key` as handed to SMTP. @returns false when it already was */
  async markSent(key: string, messageId: string, now: Date): Promise<boolean> {
    const n = await this.db('mail_deliveries')
      .where({ idempotency_key: key })
      .whereNot({ status: 'sent' })
      .update({ status: 'sent', message_id: messageId.slice(0, 998), sent_at: now, updated_at: now });
    return n > 0;
  }

  /** Whether `key` was handed to SMTP. */
  async isSent(key: string): Promise<boolean> {
    const row = await this.db('mail_deliveries').where({ idempotency_key: key, status: 'sent' }).first('idempotency_key');
    return row !== undefined;
  }

  /** Stores a file of a message about to be queued. @returns its id */
  async storeAttachment(organizationId: string, file: Omit<MailFile, 'contentId'>): Promise<string> {
    const id = newUuid();
    await this.db('mail_attachments').insert({
      id,
      organization_id: organizationId,
      filename: file.filename,
      content_type: file.contentType,
      content: file.content,
    });
    return id;
  }

  /**
   * The files of a message in the order of `refs`.
   * @throws Error when one is missing (deleted after a send whose job was not completed)
   */
  async loadAttachments(refs: readonly MailAttachmentRef[]): Promise<MailFile[]> {
    if (!refs.length) return [];
    const rows: Array<{ id: string; filename: string; content_type: string; content: Buffer }> = await this.db('mail_attachments')
      .whereIn(
        'id',
        refs.map((r) => r.id),
      )
      .select('id', 'filename', 'content_type', 'content');
    const byId = new Map(rows.map((r) => [r.id, r]));
    return refs.map((ref) => {
      const row = byId.get(ref.id);
      if (!row) throw new Error(`mail attachment ${ref.id} is missing`);
      return { filename: row.filename, contentType: row.content_type, content: row.content, ...(ref.cid ? { contentId: ref.cid } : {}) };
    });
  }

  async deleteAttachments(ids: readonly string[]): Promise<void> {
    if (ids.length) await this.db('mail_attachments').whereIn('id', ids).delete();
  }

  /** Deletes delivery records and attachments older than `before`. @returns rows deleted */
  async purge(before: Date): Promise<number> {
    const a = await this.db('mail_deliveries').where('created_at', '<', before).delete();
    const b = await this.db('mail_attachments').where('created_at', '<', before).delete();
    return a + b;
  }
}
