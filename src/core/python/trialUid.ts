/**
 * The system attribute the Python companion gives every trial it creates: a unique id, written
 * with the trial, that identifies it in Redis and in the SQLite fallback alike (numbers and ids
 * differ between them). The companion's own name for it is identity.UID_KEY.
 */
export const TRIAL_UID_ATTR = 'enhanced_redis_storage:uid';
