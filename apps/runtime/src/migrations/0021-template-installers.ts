import { Migration } from '@mikro-orm/migrations';

/**
 * A template's install count is the number of users who installed it (issue 12): one row per
 * template and user, inserted on a first install only, so install/uninstall loops of one user do
 * not raise it. Existing installs are counted again, each user once.
 */
export class Migration0021TemplateInstallers extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table template_installers (
      template_id text not null references templates(id) on delete cascade,
      user_id uuid not null references users(id),
      first_installed_at timestamptz not null,
      primary key (template_id, user_id)
    );`);
    this.addSql(`insert into template_installers (template_id, user_id, first_installed_at)
      select template_id, user_id, min(created_at) from template_installs group by template_id, user_id;`);
    this.addSql(`update templates t set install_count = (select count(*) from template_installers i where i.template_id = t.id);`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists template_installers;');
  }
}
