import { z } from 'zod';

const id = z.string().min(1).max(64);

/** POST /users/invite (plain JSON, contract row 80). */
export const inviteUserBody = z
  .object({
    email: z.email({ error: 'must be an e-mail address' }).max(254),
    role: z.enum(['viewer', 'analyst', 'admin']).default('viewer'),
    user_group_ids: z.array(id).max(1000).default([]),
  })
  .strict();

/** POST /users/{id}/activate (optional plain JSON, contract row 79). */
export const activateUserBody = z
  .object({
    role: z.enum(['viewer', 'analyst'], { error: 'must be "viewer" or "analyst"' }).optional(),
  })
  .strict();
