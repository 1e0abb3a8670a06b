import type { z } from 'zod';
import { inputParametersSchema } from '@sightline/domain';

/** Contract InputParameters (§1.10): the one schema lives in the domain (schedules store parameters too). */
export { inputParametersSchema };

export type InputParametersInput = z.infer<typeof inputParametersSchema>;
