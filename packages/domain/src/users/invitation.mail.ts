import type { MailMessage } from '../mail/mail.types.js';

/** The invitation e-mail: who invited, the single-use link, when it expires, how to accept it. */
export function invitationMail(input: { email: string; organizationName: string; acceptUrl: string; expiresAt: Date }): MailMessage {
  const expires = input.expiresAt
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  const text = [
    `Hello,`,
    ``,
    `you have been invited to join the organization "${input.organizationName}" on Sightline.`,
    ``,
    `Accept the invitation with this link (valid until ${expires}, usable once):`,
    ``,
    `  ${input.acceptUrl}`,
    ``,
    `Send your name and a password (at least 10 characters) to it, for example:`,
    ``,
    `  curl -X POST '${input.acceptUrl}' -H 'Content-Type: application/json' \\`,
    `    -d '{"firstname":"Ada","lastname":"Lovelace","password":"<your password>"}'`,
    ``,
    `If you did not expect this invitation, ignore this e-mail.`,
  ].join('\n');
  return { to: [input.email], subject: `You are invited to ${input.organizationName} on Sightline`, text };
}
