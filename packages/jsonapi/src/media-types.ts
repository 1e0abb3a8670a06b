/** The JSON:API media type. */
export const JSONAPI_MEDIA_TYPE = 'application/vnd.api+json';
/** Plain JSON. */
export const JSON_MEDIA_TYPE = 'application/json';
