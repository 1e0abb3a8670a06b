export * from './schedule-grammar.js';
export * from './occurrences.js';
export { toLocal, fromLocal, weekdayMondayZero, daysInMonth, type LocalDateTime } from './zoned-time.js';
export * from './attach-as.js';
export * from './mail-text.js';
export * from './tick.js';
export * from './field-schemas.js';
