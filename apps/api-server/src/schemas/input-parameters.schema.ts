import { inputParametersSchema } from '@sightline/domain';

/** Contract InputParameters (§1.10): the one schema lives in the domain (schedules store parameters too). */
export { inputParametersSchema };
