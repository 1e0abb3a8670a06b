import { SNIPPET_NAME } from '@sightline/domain';
import { z } from 'zod';

const noNul = (s: string) => !s.includes('\u0000');

const attributes = {
  name: z.string().max(200).regex(SNIPPET_NAME, 'must be letters, digits and "_" (not starting with a digit)'),
  description: z.string().max(10_000).refine(noNul, 'must not contain NUL characters').nullable(),
  text: z.string().min(1).max(1_000_000).refine(noNul, 'must not contain NUL characters'),
  params: z.string().max(10_000).refine(noNul, 'must not contain NUL characters').nullable(),
  created_at: z.unknown(),
  updated_at: z.unknown(),
};

export const updateSqlSnippetAttributes = z.object(attributes).partial().strict();
export const createSqlSnippetAttributes = updateSqlSnippetAttributes.required({ name: true, text: true });
