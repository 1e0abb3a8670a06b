import { z } from 'zod';

const name = z.string().trim().min(1, 'must not be empty').max(200);
const description = z.string().max(10_000).nullable();

/** POST /user_groups attributes (the contract does not mark `name` required; we require it, §5 #24). */
export const createUserGroupAttributes = z.object({ name, description: description.optional() }).strict();

/** PATCH /user_groups/{id} attributes. */
export const updateUserGroupAttributes = z.object({ name: name.optional(), description: description.optional() }).strict();
