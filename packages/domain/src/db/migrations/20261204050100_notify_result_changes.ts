import type { Knex } from 'knex';

/**
 * `NOTIFY sightline_result_changes, '<data key>'` whenever the newest complete result of a data
 * key may change (a result completes, or results are deleted): data servers keep small results in
 * memory and drop a key's entry when told (see `CachedResultStore`). Notifications are sent at
 * commit, and identical ones of one transaction are sent once.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION result_change_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('sightline_result_changes', OLD.data_key);
      ELSE
        PERFORM pg_notify('sightline_result_changes', NEW.data_key);
      END IF;
      RETURN NULL;
    END $$`);
  await knex.raw(`CREATE TRIGGER result_change_notify_complete AFTER INSERT OR UPDATE ON results FOR EACH ROW
    WHEN (NEW.complete) EXECUTE FUNCTION result_change_notify()`);
  await knex.raw('CREATE TRIGGER result_change_notify_delete AFTER DELETE ON results FOR EACH ROW EXECUTE FUNCTION result_change_notify()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER result_change_notify_delete ON results');
  await knex.raw('DROP TRIGGER result_change_notify_complete ON results');
  await knex.raw('DROP FUNCTION result_change_notify()');
}
