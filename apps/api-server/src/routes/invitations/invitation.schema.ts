import { z } from 'zod';

const namePart = z.string().trim().min(1, 'must not be empty').max(100);

/** POST /invitations/{token}/accept (plain JSON; Sightline's own route, no API key). */
export const acceptInvitationBody = z
  .object({
    firstname: namePart,
    lastname: namePart,
    password: z.string().min(10, 'must have at least 10 characters').max(200, 'must have at most 200 characters'),
  })
  .strict();
